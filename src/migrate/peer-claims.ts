/**
 * storage=none keeps a checkpoint on each node that may hold a complete copy (record.copies): the source's own
 * images and the target's received ones. One rule keeps the container on exactly one node:
 *
 *   a node restores a checkpoint only after claiming it on every other node that may hold a copy (through that
 *   node's helper, refusals are final), then locally. A node that cannot be reached cannot be ruled out: the
 *   restore is refused and the checkpoint kept for when it can be.
 *
 * After a successful restore the other copies are told ("restored"), which removes them; a failed restore
 * releases its claims so the checkpoint can be resumed elsewhere. A claim on a node that has nothing of the
 * checkpoint stands in for a transfer that might still arrive there: that copy can then never be restored.
 */
import { lookup } from 'node:dns/promises';
import { readAuthkey } from '../helper/authkey.js';
import { checkpointRequest, heldBy, PeerRefusal, type Peer } from '../helper/client.js';
import type { HeldCheckpoint } from '../helper/protocol.js';
import { candidates } from '../net/migration-address.js';
import type { Config } from '../settings/params.js';
import { currentDeadline, Deadline } from '../util/deadline.js';
import { logger } from '../util/log.js';
import { withinMs } from '../util/within.js';
import type { MigrationRecord } from './record.js';

const ANSWER_TIMEOUT_MS = 3000;
/** Below this much time left before the action's deadline no further address is tried: the action must still end. */
const MIN_ASK_MS = 250;

export class PeerUnreachable extends Error {}

/** A peer that holds a copy says the checkpoint was restored there (or superseded): the container has moved on. */
export class RestoredElsewhere extends Error {}

interface Who { config: Config; localNode: string }

/**
 * Runs `request` against the peer's helper on each of its addresses in turn (migration network first), within
 * the action's deadline: a name lookup or an answer that would outlast it is given up, and no address is tried
 * once too little time is left (a peer that is down must not take a stop or a start past Pacemaker's timeout).
 */
export async function askPeer<T>(who: Who, peer: string, request: (p: Peer) => Promise<T>, deadline = currentDeadline()): Promise<T> {
  const key = readAuthkey(who.config.authkey);
  const problems: string[] = [];
  for (const candidate of candidates(peer, who.config.migration_network_suffix, who.config.migration_address)) {
    const leftMs = deadline.remainingMs();
    if (leftMs < MIN_ASK_MS) {
      problems.push(`${candidate.name}: not tried, the action's deadline is ${leftMs} ms away`);
      break;
    }
    let host: string;
    try {
      host = (await withinMs(Math.min(ANSWER_TIMEOUT_MS, leftMs), 'its name lookup', lookup(candidate.name))).address;
    } catch (err) {
      problems.push(`${candidate.name} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))})`);
      continue;
    }
    const timeoutMs = Math.max(1, Math.min(ANSWER_TIMEOUT_MS, deadline.remainingMs()));
    try {
      return await withinMs(timeoutMs, 'the answer', request({ host, port: who.config.helper_port, key, identity: who.localNode, timeoutMs }));
    } catch (err) {
      if (err instanceof PeerRefusal) throw err;
      problems.push(`${candidate.name} (${host}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new PeerUnreachable(`the helper of ${peer} cannot be reached: ${problems.join('; ')}`);
}

/** `ask` for every peer at once (each bounded by the deadline on its own), results in the peers' order. */
function askEach<T>(peers: readonly string[], ask: (peer: string) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(peers.map((peer) => ask(peer)));
}

export function otherCopies(record: MigrationRecord, localNode: string): string[] {
  return (record.copies ?? []).filter((n) => n !== localNode);
}

/**
 * Claims the checkpoint on every other node that may hold it; on any failure releases what it got and throws. A
 * copy set aside there counts as claimed: it is never restored there. `gone`: a peer that claimed this node's copy
 * and then could not be asked (start.ts): it may stay unreachable, since it can never restore its own copy
 * without this node's, which this node now holds.
 */
export async function claimOtherCopies(who: Who, record: MigrationRecord, gone: readonly string[] = []): Promise<void> {
  const peers = otherCopies(record, who.localNode);
  const results = await askEach(peers, async (peer) => {
    try {
      await askPeer(who, peer, (p) => checkpointRequest(p, 'claim', who.config.name, record.id, who.localNode));
      return true;
    } catch (err) {
      if (err instanceof PeerRefusal && err.settled === 'aborted') return false;
      if (err instanceof PeerUnreachable && gone.includes(peer)) {
        logger.warning(`${peer} cannot be asked to give up checkpoint ${record.id} (${err.message}); it claimed this node's copy, so it cannot restore its own without this node`);
        return false;
      }
      throw err;
    }
  });
  const failedAt = results.findIndex((r) => r.status === 'rejected');
  if (failedAt < 0) return;
  await releaseOtherCopies(who, record, peers.filter((_, i) => { const r = results[i]; return r?.status === 'fulfilled' && r.value; }));
  const peer = peers[failedAt];
  const err = (results[failedAt] as PromiseRejectedResult).reason as unknown;
  const why = err instanceof Error ? err.message : String(err);
  if (err instanceof PeerRefusal && err.settled === 'restored') throw new RestoredElsewhere(`${peer} refuses to give up checkpoint ${record.id}: ${why}`);
  throw new Error(err instanceof PeerRefusal
    ? `${peer} refuses to give up checkpoint ${record.id}: ${why}`
    : `cannot make sure ${peer} does not restore checkpoint ${record.id} too: ${why}`);
}

export async function releaseOtherCopies(who: Who, record: MigrationRecord, peers = otherCopies(record, who.localNode)): Promise<void> {
  const results = await askEach(peers, (peer) => askPeer(who, peer, (p) => checkpointRequest(p, 'release', who.config.name, record.id, who.localNode)));
  results.forEach((r, i) => {
    // the claim stays there: that copy can then not be resumed, which is the safe side
    if (r.status === 'rejected') logger.warning(`could not release the claim on ${peers[i]}'s copy of checkpoint ${record.id}: ${messageOf(r.reason)}`);
  });
}

/** After a successful restore here: the other copies are obsolete. Best effort; their claims keep them unusable. */
export async function retireOtherCopies(who: Who, record: MigrationRecord): Promise<void> {
  const peers = otherCopies(record, who.localNode);
  const results = await askEach(peers, (peer) => askPeer(who, peer, (p) => checkpointRequest(p, 'restored', who.config.name, record.id, who.localNode)));
  results.forEach((r, i) => {
    if (r.status === 'rejected') logger.warning(`${peers[i]} still holds a copy of checkpoint ${record.id} (claimed by this node, so never resumed): ${messageOf(r.reason)}`);
  });
}

/**
 * The first of `peers` holding a checkpoint of an unfinished migration; unreachable peers are reported. Asking
 * takes at most half the time the action has left: the start that asks must still have time to start.
 */
export async function checkpointHeldElsewhere(who: Who, peers: readonly string[]):
  Promise<{ held?: { node: string; checkpoint: HeldCheckpoint }; unreachable: string[] }> {
  const within = Deadline.in(currentDeadline().remainingMs() / 2);
  const results = await askEach(peers, (peer) => askPeer(who, peer, (p) => heldBy(p, who.config.name), within));
  const unreachable: string[] = [];
  let held: { node: string; checkpoint: HeldCheckpoint } | undefined;
  results.forEach((r, i) => {
    const node = peers[i] as string;
    if (r.status === 'rejected') unreachable.push(`${node}: ${messageOf(r.reason)}`);
    else if (r.value && !held) held = { node, checkpoint: r.value };
  });
  return held ? { held, unreachable } : { unreachable };
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Claims `peer`'s copy of checkpoint `id` for this node without restoring it, so that it is never resumed there
 * (a checkpoint made by stop that a start elsewhere has superseded by starting afresh).
 */
export async function retireCopyOn(who: Who, peer: string, id: string): Promise<void> {
  await askPeer(who, peer, (p) => checkpointRequest(p, 'claim', who.config.name, id, who.localNode));
}
