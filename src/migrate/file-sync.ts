/**
 * storage=none, a container whose files are on the node's own disk (an LXC root filesystem): they move with it,
 * as vzmigrate syncs a container's private area. While the container runs, the whole tree goes to the target's
 * helper (into ROOT.ferry-incoming-ID there, storage/file-tree/places.ts); once it is frozen and dumped, only
 * what changed since: the paths whose metadata moved, and the paths gone. The target's restore makes its copy ROOT
 * (target.ts); the source's ROOT is set aside when the target reports the restore (checkpoint-keeper.ts), and
 * until then stays whole, so a failed move resumes on the source with its own files.
 */
import { bytesOf, diffTrees, walkTree, type Manifest } from '../storage/file-tree/manifest.js';
import { tarOf } from '../storage/file-tree/tar.js';
import { sendFiles } from '../helper/client.js';
import { logger } from '../util/log.js';
import type { EngineContext } from './context.js';
import type { MigrationRecord } from './record.js';
import type { TransferPath } from './transfer.js';

/** What the pre-sync saw: the final sync sends what differs from it. */
export interface Baseline { root: string; manifest: Manifest }

async function send(ctx: EngineContext, record: MigrationRecord, path: TransferPath, root: string, first: boolean, paths: readonly string[] | undefined, removed: readonly string[]) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ctx.deadline.remainingMs());
  try {
    return await sendFiles(path.peer, ctx.config.name, record.id, root, first, removed, tarOf(root, paths, first), abort.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** The container still runs: the whole tree to the target. */
export async function preSyncFiles(ctx: EngineContext, record: MigrationRecord, path: TransferPath, root: string): Promise<{ baseline: Baseline; ms: number; bytes: number }> {
  const began = Date.now();
  const manifest = walkTree(root);
  const { bytes } = await send(ctx, record, path, root, true, undefined, []);
  const ms = Date.now() - began;
  logger.info(`sent ${root} (${manifest.size} paths, ${(bytes / 1048576).toFixed(1)} MiB) to ${record.target} in ${ms} ms via ${path.name}, ${ctx.config.name} running`);
  return { baseline: { root, manifest }, ms, bytes };
}

/** The container is dumped (frozen, then gone): what changed since the pre-sync. */
export async function finalSyncFiles(ctx: EngineContext, record: MigrationRecord, path: TransferPath, baseline: Baseline): Promise<NonNullable<NonNullable<MigrationRecord['files']>['finalSync']>> {
  const began = Date.now();
  const now = walkTree(baseline.root);
  const diff = diffTrees(baseline.manifest, now);
  const { bytes } = await send(ctx, record, path, baseline.root, false, diff.changed, diff.removed);
  const ms = Date.now() - began;
  logger.info(`sent what changed in ${baseline.root} while ${ctx.config.name} ran (${diff.changed.length} paths, `
    + `${(bytesOf(now, diff.changed) / 1048576).toFixed(1)} MiB of files; ${diff.removed.length} removed) to ${record.target} in ${ms} ms`);
  return { ms, bytes, changed: diff.changed.length, removed: diff.removed.length };
}
