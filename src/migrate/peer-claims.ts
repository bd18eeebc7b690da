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
import type { Config } from '../ocf/params.js';
import { logger } from '../util/log.js';
import type { MigrationRecord } from './record.js';

const ANSWER_TIMEOUT_MS = 3000;

export class PeerUnreachable extends Error {}

interface Who { config: Config; localNode: string }

/** Runs `request` against the peer's helper on each of its addresses in turn (migration network first). */
export async function askPeer<T>(who: Who, peer: string, request: (p: Peer) => Promise<T>): Promise<T> {
  const key = readAuthkey(who.config.authkey);
  const problems: string[] = [];
  for (const candidate of candidates(peer, who.config.migration_network_suffix, who.config.migration_address)) {
    let host: string;
    try {
      host = (await lookup(candidate.name)).address;
    } catch (err) {
      problems.push(`${candidate.name} does not resolve (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    try {
      return await request({ host, port: who.config.helper_port, key, identity: who.localNode, timeoutMs: ANSWER_TIMEOUT_MS });
    } catch (err) {
      if (err instanceof PeerRefusal) throw err;
      problems.push(`${candidate.name} (${host}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new PeerUnreachable(`the helper of ${peer} cannot be reached: ${problems.join('; ')}`);
}

export function otherCopies(record: MigrationRecord, localNode: string): string[] {
  return (record.copies ?? []).filter((n) => n !== localNode);
}

/** Claims the checkpoint on every other node that may hold it; on any failure releases what it got and throws. */
export async function claimOtherCopies(who: Who, record: MigrationRecord): Promise<void> {
  const got: string[] = [];
  for (const peer of otherCopies(record, who.localNode)) {
    try {
      await askPeer(who, peer, (p) => checkpointRequest(p, 'claim', who.config.name, record.id, who.localNode));
      got.push(peer);
    } catch (err) {
      await releaseOtherCopies(who, record, got);
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(err instanceof PeerRefusal
        ? `${peer} refuses to give up checkpoint ${record.id}: ${why}`
        : `cannot make sure ${peer} does not restore checkpoint ${record.id} too: ${why}`);
    }
  }
}

export async function releaseOtherCopies(who: Who, record: MigrationRecord, peers = otherCopies(record, who.localNode)): Promise<void> {
  for (const peer of peers) {
    try {
      await askPeer(who, peer, (p) => checkpointRequest(p, 'release', who.config.name, record.id, who.localNode));
    } catch (err) {
      // the claim stays there: that copy can then not be resumed, which is the safe side
      logger.warning(`could not release the claim on ${peer}'s copy of checkpoint ${record.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** After a successful restore here: the other copies are obsolete. Best effort; their claims keep them unusable. */
export async function retireOtherCopies(who: Who, record: MigrationRecord): Promise<void> {
  for (const peer of otherCopies(record, who.localNode)) {
    try {
      await askPeer(who, peer, (p) => checkpointRequest(p, 'restored', who.config.name, record.id, who.localNode));
    } catch (err) {
      logger.warning(`${peer} still holds a copy of checkpoint ${record.id} (claimed by this node, so never resumed): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The first of `peers` holding a checkpoint of an unfinished migration; unreachable peers are reported. */
export async function checkpointHeldElsewhere(who: Who, peers: readonly string[]):
  Promise<{ held?: { node: string; checkpoint: HeldCheckpoint }; unreachable: string[] }> {
  const unreachable: string[] = [];
  for (const peer of peers) {
    try {
      const checkpoint = await askPeer(who, peer, (p) => heldBy(p, who.config.name));
      if (checkpoint) return { held: { node: peer, checkpoint }, unreachable };
    } catch (err) {
      unreachable.push(`${peer}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { unreachable };
}
