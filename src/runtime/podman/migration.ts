/**
 * podman checkpoints and restores its own containers (driver.ts: dumpItself, restoreItself): the export is one
 * archive in the checkpoint's images directory, renamed into place only once podman succeeded, so a half-written
 * one is never taken for a checkpoint.
 */
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../settings/params.js';
import type { DumpStats } from '../../criu/stats.js';
import { RUNTIME_ARCHIVE, type RuntimeDumpRequest, type RuntimeRestoreRequest } from '../driver.js';
import { failed, notInstalled } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import { checkpointArgs, restoreArgs } from './args.js';
import { dumpStatsOf, parseStats, podmanError, type RuntimeStats } from './output.js';
import { imageId, inspectContainer, podman, removeContainer, writeCriuConfig } from './podman.js';
import { makeNetns, releaseHold, removeNetns } from './netns.js';

const ms = (us: number | undefined) => (us === undefined ? '?' : (us / 1000).toFixed(0));

function describe(s: RuntimeStats, kind: 'checkpoint' | 'restore'): string {
  return `podman ${kind} ${ms(s.podmanUs)} ms (runc ${ms(s.runtimeUs)} ms, CRIU ${kind === 'checkpoint' ? 'frozen' : 'restore'} ${ms(s.criuUs)} ms, ${s.pages ?? '?'} pages)`;
}

/** podman's own log of a failed checkpoint or restore, where the engine keeps it (last-failed-*.log). */
async function keepLog(config: Config, log: 'dump.log' | 'restore.log', imagesDir: string): Promise<void> {
  try {
    const c = await inspectContainer(config.criu_binary, config.name);
    if (c?.staticDir) copyFileSync(join(c.staticDir, log), join(imagesDir, log));
  } catch { /* podman may have failed before writing it, or removed the container */ }
}

export async function dumpContainer(config: Config, request: RuntimeDumpRequest): Promise<DumpStats> {
  writeCriuConfig(request.networkLock);
  const archive = join(request.imagesDir, RUNTIME_ARCHIVE);
  const partial = `${archive}.partial`;
  const r = await podman(config.criu_binary, checkpointArgs(config.name, partial), { allowFailure: true, timeoutMs: request.timeoutMs });
  if (r.exitCode !== 0) {
    rmSync(partial, { force: true });
    await keepLog(config, 'dump.log', request.imagesDir);
    throw failed(`podman container checkpoint ${config.name} failed (${r.timedOut ? 'timed out' : `exit code ${r.exitCode}`}): ${podmanError(r.stderr)}`);
  }
  renameSync(partial, archive);
  const stats = parseStats(r.stdout, 'checkpoint');
  logger.info(`checkpointed ${config.name}: ${describe(stats, 'checkpoint')}`);
  // the container has stopped with its checkpoint; what is left of it here goes, so only the archive holds it
  await removeContainer(config.criu_binary, config.name).catch((err: unknown) => logger.warning(`after the checkpoint: ${String(err)}`));
  await removeNetns(config);
  return dumpStatsOf(stats);
}

export interface Restored { pid: number; restoreTimeUs: number | undefined; pagesRestored: number | undefined }

export async function restoreContainer(config: Config, request: RuntimeRestoreRequest): Promise<Restored> {
  if (!config.image || !(await imageId(config.criu_binary, config.image))) {
    throw notInstalled(`image ${config.image ?? '?'} is not on this node: podman restores a checkpoint onto its image (same image ID on every node)`);
  }
  writeCriuConfig(undefined);
  await makeNetns(config, true);
  let stats: RuntimeStats;
  try {
    const r = await podman(config.criu_binary, restoreArgs(join(request.imagesDir, RUNTIME_ARCHIVE)), { allowFailure: true, timeoutMs: request.timeoutMs });
    if (r.exitCode !== 0) {
      await keepLog(config, 'restore.log', request.imagesDir);
      throw failed(`podman container restore of ${config.name} failed (${r.timedOut ? 'timed out' : `exit code ${r.exitCode}`}): ${podmanError(r.stderr)}`);
    }
    stats = parseStats(r.stdout, 'restore');
  } finally {
    // as soon as the sockets are back: the client's retransmissions back off while it is held
    await releaseHold(config);
  }
  const c = await inspectContainer(config.criu_binary, config.name);
  if (!c || c.pid <= 0) throw failed(`podman restored ${config.name}, but it is not running (${c?.status ?? 'gone'})`);
  logger.info(`restored ${config.name}: ${describe(stats, 'restore')}`);
  return { pid: c.pid, restoreTimeUs: stats.criuUs, pagesRestored: stats.pages };
}
