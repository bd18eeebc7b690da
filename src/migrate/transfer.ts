/**
 * storage=none: the checkpoint travels from the source's state_dir to the target's through the target's helper
 * (TLS-PSK), over the migration network when it is usable. The path is chosen before anything is frozen; the
 * images are sent whole, after the dump, so the source keeps a complete copy until the target has restored.
 */
import { chmodSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { join } from 'node:path';
import { failed, misconfigured, notInstalled } from '../util/errors.js';
import { readAuthkey } from '../helper/authkey.js';
import { sendDirectory, TransferError, type Peer } from '../helper/client.js';
import { writeJsonAtomic } from '../util/files.js';
import { logger } from '../util/log.js';
import { withinMs } from '../util/within.js';
import type { EngineContext } from './context.js';
import type { MigrationRecord } from './record.js';
import type { PeerView } from './peer.js';

/** `instead`: the back-channel, once the chosen network failed (backChannelInstead); later sends go there too. */
export interface TransferPath { peer: Peer; name: string; kind: string; why: string; instead?: TransferPath }

/** Where the images will go; throws (before the freeze) when the target's helper cannot take them. */
export function transferPath(ctx: EngineContext, peer: PeerView): TransferPath {
  const { config } = ctx;
  const { target, choice } = peer;
  if (!choice) throw notInstalled(`storage=none needs the helpers' key: ${peer.problem ?? '?'}`);
  const d = choice.decision;
  if (!d.ok) throw failed(`no way to send the checkpoint to ${target}: ${d.reason}`);
  const theirDir = choice.peerHealth?.dir;
  if (theirDir !== config.state_dir) {
    throw misconfigured(`the helper on ${target} keeps checkpoints in ${theirDir ?? '?'} but state_dir is `
      + `${config.state_dir ?? '?'}: run ferry serve there with --dir ${config.state_dir ?? '?'}`);
  }
  return pathVia(ctx, target, d);
}

function pathVia(ctx: EngineContext, target: string, d: { address: string; name: string; kind: string; why: string[] }): TransferPath {
  const { config } = ctx;
  const identity = { port: config.helper_port, key: readAuthkey(config.authkey), identity: ctx.localNode };
  if (d.kind === 'back-channel' && config.migration_speed > 0) {
    logger.info(`the migration of ${config.name} to ${target} goes over the back-channel (${d.name}), which corosync uses too: paced to migration_speed=${config.migration_speed} MiB/s`);
  } else if (d.kind === 'back-channel') {
    logger.warning(`the migration of ${config.name} to ${target} goes over the back-channel (${d.name}), which corosync uses too: `
      + 'at full speed a large transfer can delay corosync\'s token until a node is fenced; set migration_speed to limit it');
  }
  const bytesPerSecond = config.migration_speed > 0 ? config.migration_speed * 1048576 : undefined;
  return { peer: { ...identity, host: d.address, timeoutMs: TRANSFER_SILENCE_MS, ...(bytesPerSecond ? { bytesPerSecond } : {}) }, name: d.name, kind: d.kind, why: d.why.join('; ') };
}

/** The back-channel's name lookup for a fallback, at most (the resolver may be what failed). */
const LOOKUP_MS = 3000;

/** A connection silent this long is dead (a cut link): give up rather than wait for TCP's own timeout. */
const TRANSFER_SILENCE_MS = 5000;

/** A pre-copy round (IMAGES/pre-N), sent ahead while the container runs; the final transfer gathers it. */
export async function sendRound(ctx: EngineContext, record: MigrationRecord, path: TransferPath, dir: string): Promise<void> {
  const began = Date.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ctx.deadline.remainingMs());
  try {
    const { bytes, via } = await sendOver(ctx, record.target, path, (p) => sendDirectory(p.peer, ctx.config.name, record.id, join(ctx.store.imagesDir(record.id), dir), abort.signal, dir));
    logger.info(`sent pre-copy ${dir} (${(bytes / 1048576).toFixed(1)} MiB) to ${record.target} in ${Date.now() - began} ms via ${via.name}`);
  } finally {
    clearTimeout(timer);
  }
}

export interface Sent { record: MigrationRecord; bytes: number; ms: number }

/**
 * Sends the sealed checkpoint with its record. On failure the error says whether the target may have received
 * it all (then it is one of the record's copies and its claim is needed before this one can be resumed).
 */
export async function sendCheckpoint(ctx: EngineContext, record: MigrationRecord, path: TransferPath): Promise<Sent> {
  const { store, records, config } = ctx;
  const travelling = records.write({ ...record, copies: [record.source, record.target] });
  writeJsonAtomic(store.travellingRecordPath(record.id), travelling);
  chmodSync(store.travellingRecordPath(record.id), 0o600);
  const began = Date.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ctx.deadline.remainingMs());
  try {
    const first = path.instead ?? path;
    logger.info(`sending checkpoint ${record.id} to ${record.target} via ${first.name} (${first.peer.host}, ${first.kind})`);
    const { bytes, via } = await sendOver(ctx, record.target, path, (p) => sendDirectory(p.peer, config.name, record.id, store.imagesDir(record.id), abort.signal));
    const ms = Date.now() - began;
    logger.info(`sent ${(bytes / 1048576).toFixed(1)} MiB to ${record.target} in ${ms} ms via ${via.name}`);
    return { record: travelling, bytes, ms };
  } catch (err) {
    if (err instanceof TransferError && !err.allSent) {
      // the target cannot have every byte, so it holds no usable copy: this one is the only one
      records.write({ ...travelling, copies: [record.source] });
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** `send` over the path (or the back-channel it already fell back to), falling back once if it must. */
async function sendOver<T>(ctx: EngineContext, target: string, path: TransferPath, send: (p: TransferPath) => Promise<T>): Promise<T & { via: TransferPath }> {
  const via = path.instead ?? path;
  try {
    return { ...await send(via), via };
  } catch (err) {
    if (via !== path) throw err;
    const other = await backChannelInstead(ctx, target, path, err);
    if (!other) throw err;
    path.instead = other;
    return { ...await send(other), via: other };
  }
}

/**
 * The migration network chosen before the freeze can die before the frozen container's images cross it. When
 * nothing reached the target (no connection was made: the peer has no part of it) and the back-channel is
 * allowed, the images take the back-channel instead of failing the migration, and the log says so.
 */
async function backChannelInstead(ctx: EngineContext, target: string, path: TransferPath, err: unknown): Promise<TransferPath | undefined> {
  if (!(err instanceof TransferError) || err.connected || path.kind !== 'migration' || ctx.config.require_migration_network) return undefined;
  let address: string;
  try {
    // bounded like every question to a peer: the frozen container's migration must still end by its deadline
    address = (await withinMs(Math.max(1, Math.min(LOOKUP_MS, ctx.deadline.remainingMs())), 'its name lookup', lookup(target))).address;
  } catch (lookupErr) {
    logger.warning(`cannot fall back to the back-channel (${target} does not resolve: ${lookupErr instanceof Error ? lookupErr.message : String(lookupErr)})`);
    return undefined;
  }
  logger.warning(`the migration network to ${target} failed before any image crossed it (${err.message}): sending over the back-channel (${target}, ${address}) instead, for the rest of this migration too`);
  return pathVia(ctx, target, { address, name: target, kind: 'back-channel', why: [`${path.name} failed: ${err.message}`] });
}
