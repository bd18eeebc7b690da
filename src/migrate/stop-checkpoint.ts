/**
 * checkpoint_on_stop, the effects: before stop kills the container, checkpoint it into state_dir as a record in
 * phase "dumped" for ANY_NODE, so that the next start, on whichever node, resumes it (start.ts). Never throws: a
 * stop that fails gets the node fenced, so whatever goes wrong here is logged and the container is then stopped
 * the normal way by the caller (a failed CRIU dump resumes the tree; a dump cut off by the deadline leaves it too).
 */
import { existsSync } from 'node:fs';
import { messageOf } from '../util/errors.js';
import { logger } from '../util/log.js';
import { ensurePrivateDir } from '../util/files.js';
import { Deadline } from '../util/deadline.js';
import { namespaceOf, processesInPidNamespace } from '../util/proc.js';
import { residentBytes } from '../util/memory.js';
import { statusPath } from '../criu/background-status.js';
import { capabilities } from '../criu/capabilities.js';
import { releaseStaleNetworkLock } from '../criu/network-lock.js';
import type { ContainerHere } from './container.js';
import { engineContext } from './context.js';
import { ANY_NODE, newMigrationId, RecordStore, type MigrationRecord } from './record.js';
import { retentionOf } from './image-sweep.js';
import { StateStore } from '../storage/state-store.js';
import { runPhases } from './phases.js';
import { sealImages } from './seal.js';
import { decideStopCheckpoint } from './stop-checkpoint-plan.js';

/** True when the container was checkpointed and is gone from this node; false when it still has to be stopped. */
export async function checkpointOnStop(here: ContainerHere): Promise<boolean> {
  const { config, driver } = here;
  const pid = driver.checkpointRoot();
  const pidNs = pid !== undefined ? namespaceOf(pid, 'pid') : undefined;
  const decision = decideStopCheckpoint({
    enabled: config.checkpoint_on_stop, stateDir: config.state_dir, pid,
    lazySource: existsSync(statusPath(config.name, 'page-server')),
    recordPhase: config.state_dir ? recordPhase(config.state_dir, config.name) : undefined,
    remainingMs: here.deadline.remainingMs(), stopTimeoutS: config.stop_timeout,
    residentBytes: pidNs ? residentBytes(processesInPidNamespace(pidNs)) : 0,
  });
  if (!decision.checkpoint) {
    if (decision.warn) logger.warning(`not checkpointing ${config.name} on stop: ${decision.why}; stopping it the normal way`);
    else logger.debug(`no checkpoint on stop: ${decision.why}`);
    return false;
  }
  try {
    await dumpOnStop(here, pid as number, Deadline.in(decision.dumpBudgetMs), decision.estimateMs);
    return true;
  } catch (err) {
    logger.warning(`checkpoint of ${config.name} on stop failed (${messageOf(err)}); stopping it the normal way, the next start starts it afresh`);
    return false;
  }
}

function recordPhase(stateDir: string, name: string): string | undefined {
  try {
    return new RecordStore(new StateStore(stateDir, name)).read()?.phase;
  } catch {
    return undefined; // unreadable: the dump writes a new one
  }
}

async function dumpOnStop(here: ContainerHere, pid: number, dumpDeadline: Deadline, estimateMs: number): Promise<void> {
  const { config, driver } = here;
  const ctx = engineContext(config, await here.localNode(), driver, here.deadline);
  const { records, store } = ctx;
  const caps = await capabilities(config.criu_binary);
  if (!caps.criuCheck.ok) throw new Error(`criu check fails on ${ctx.localNode}: ${caps.criuCheck.output}`);
  const id = newMigrationId();
  const imagesDir = store.imagesDir(id);
  const began = Date.now();
  let record: MigrationRecord = {
    // no target: whichever node starts the container next resumes it, after claiming it like any checkpoint
    id, name: config.name, source: ctx.localNode, target: ANY_NODE, requestedType: 'simple', type: 'simple',
    phase: 'dumping', dumpStartedAt: began, updatedAt: '', retention: retentionOf(config),
    ...(driver.runtimeConfig ? { runtimeConfig: driver.runtimeConfig() } : {}),
  };
  logger.info(`checkpointing ${config.name} (pid ${pid}) on stop into ${imagesDir}: about ${(estimateMs / 1000).toFixed(1)} s, `
    + `${(dumpDeadline.remainingMs() / 1000).toFixed(1)} s allowed`);
  await runPhases([
    {
      name: 'prepare',
      run: async () => {
        store.ensure();
        const removed = records.removeStale();
        if (removed.length) logger.info(`removed leftovers of earlier checkpoints: ${removed.join(', ')}`);
        ensurePrivateDir(imagesDir);
        record = records.write(record);
      },
      undo: async () => {
        records.removeImages(id);
        record = records.update(record, { phase: 'aborted', lastError: 'the checkpoint on stop failed' });
      },
    },
    {
      name: 'freeze+dump',
      run: async () => {
        const runtimeOptions = await driver.dumpOptions(pid);
        if (driver.dumpItself) {
          await driver.dumpItself({ imagesDir, networkLock: caps.networkLock, timeoutMs: dumpDeadline.bound() });
          record = { ...record, dumpedAt: Date.now() };
        } else {
          const dumpStats = await ctx.criu.dump({ pid, imagesDir, networkLock: caps.networkLock, runtimeOptions }, dumpDeadline.bound());
          record = { ...record, dumpStats, dumpedAt: Date.now() };
        }
      },
      undo: async () => {
        // CRIU resumes the tree when its dump fails; killed by the deadline, it may leave its network lock
        store.keepFailureLog(id, 'dump.log');
        if (driver.checkpointRoot() !== undefined) await releaseStaleNetworkLock(pid);
      },
    },
    {
      name: 'seal',
      run: async () => {
        sealImages(imagesDir);
        record = records.update(record, { phase: 'dumped' });
        driver.forget();
      },
    },
  ]);
  logger.notice(`checkpointed ${config.name} on stop as ${id} in ${Date.now() - began} ms (${record.dumpStats?.pagesWritten ?? '?'} pages, `
    + `frozen ${((record.dumpStats?.frozenTimeUs ?? 0) / 1000).toFixed(0)} ms): the next start${config.storage === 'none' ? ` on ${ctx.localNode}` : ', on any node,'} resumes it`);
}
