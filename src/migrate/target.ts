/**
 * Restoring a checkpoint on this node: for migrate_from (the target of a migration), for start (resuming the
 * checkpoint of a migration that did not finish) and for rolling back on the source. The claim makes sure one
 * checkpoint is restored on one node only (with storage=none, on every node holding a copy: peer-claims.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { failed, FerryError, notInstalled, refused } from '../util/errors.js';
import { runtimeConfigProblem } from './runtime-config.js';
import { capabilities } from '../criu/capabilities.js';
import { logger } from '../util/log.js';
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { bootTicksNow } from '../util/proc.js';
import { writeRestoreIntent } from '../runtime/local-record.js';
import { announceAddress } from '../net/announce.js';
import { releaseStaleNetworkLock, RESTORED_WITH_RULESET } from '../criu/network-lock.js';
import { runPhases, PhaseError } from './phases.js';
import { isStopCheckpoint, type MigrationRecord } from './record.js';
import { describeSummary, summarize, type MigrationSummary } from './summary.js';
import { ROLLBACK_RESERVE_MS, type EngineContext } from './context.js';
import { claimOtherCopies, releaseOtherCopies, RestoredElsewhere, retireOtherCopies } from './peer-claims.js';
import { startLazyPages, stopBackground, watchLazyPages } from './lazy.js';
import { activateIncoming, deactivate } from '../storage/file-tree/places.js';

export type RestoreMode = 'migrate' | 'resume' | 'rollback';

function claimOrTakeOver(ctx: EngineContext, record: MigrationRecord, mode: RestoreMode): void {
  const { records, localNode } = ctx;
  if (records.claim(record.id, localNode)) return;
  const owner = records.claimOwner(record.id);
  if (owner === localNode) return;
  if (mode === 'migrate' || ctx.config.storage === 'none') {
    // with storage=none a claim on this node's copy is the peer's: only the peer may release it
    throw new Error(`checkpoint ${record.id} is already claimed by ${owner ?? 'another node'}`);
  }
  // start (resume) and rollback only run when Pacemaker has stopped the resource everywhere else
  logger.warning(`taking over the claim of ${owner ?? 'an unknown node'} on checkpoint ${record.id}: Pacemaker has stopped the resource there`);
  records.releaseClaim(record.id);
  if (!records.claim(record.id, localNode)) throw new Error(`checkpoint ${record.id} was claimed concurrently`);
}

/** `gone`: peers that may stay unreachable while their copies are claimed (see claimOtherCopies). */
export async function restoreCheckpoint(ctx: EngineContext, start: MigrationRecord, mode: RestoreMode, gone: readonly string[] = []): Promise<MigrationSummary> {
  const { config, driver, records, store } = ctx;
  let record = start;
  const imagesDir = store.imagesDir(record.id);
  const pidFile = join(runDir(), `${config.name}.restored.pid`);
  const rootPidFile = join(runDir(), `${config.name}.restored-root.pid`);
  const removePidFiles = () => { rmSync(pidFile, { force: true }); rmSync(rootPidFile, { force: true }); };
  let restoredPid: number | undefined;
  /** A lazy checkpoint's page server serves one session: once a restore has tried, it cannot be tried again. */
  let lazySpent = false;
  /** storage=none: the files that came with the checkpoint become the container's here, just before the restore. */
  const movedRoot = record.files && record.source !== ctx.localNode ? record.files.root : undefined;

  try {
    await runPhases([
      {
        name: 'claim',
        run: async () => {
          if (!records.imagesComplete(record.id)) throw new Error(`checkpoint ${record.id} is incomplete (no inventory.img in ${imagesDir})`);
          const differs = runtimeConfigProblem(record.runtimeConfig, driver.runtimeConfig?.(), record.source);
          if (differs) throw refused(differs);
          const caps = await capabilities(config.criu_binary);
          if (!caps.criuCheck.ok) throw notInstalled(`criu check fails on ${ctx.localNode}: ${caps.criuCheck.output}`);
          await claimOtherCopies(ctx, record, gone);
          try {
            claimOrTakeOver(ctx, record, mode);
          } catch (err) {
            await releaseOtherCopies(ctx, record);
            throw err;
          }
          record = records.update(record, { phase: 'restoring', restoreStartedAt: Date.now() });
          if (movedRoot) logger.info(activateIncoming(movedRoot, record.id));
        },
        undo: async () => {
          // the source's files stay the container's: this copy goes back to waiting, never to be started from
          if (movedRoot) deactivate(movedRoot, record.id);
          records.releaseClaim(record.id);
          record = lazySpent
            ? records.setAside(record, 'the lazy restore failed, and the page server serves one restore only', config.keep_images)
            : records.update(record, { phase: 'dumped' });
          await releaseOtherCopies(ctx, record);
        },
      },
      {
        name: 'restore',
        run: async () => {
          await driver.prepareRestore();
          removePidFiles(); // CRIU refuses to write an existing pidfile, after creating the tasks
          writeRestoreIntent({ name: config.name, pidFile, rootPidFile, migrationId: record.id, since: new Date().toISOString(), bootTicks: bootTicksNow() });
          logger.info(`restoring ${config.name} from checkpoint ${record.id} (${mode}${record.lazy ? `, memory from ${record.lazy.address}:${record.lazy.port}` : ''})`);
          const restoreDeadline = ctx.deadline.reserve(ROLLBACK_RESERVE_MS);
          lazySpent = record.lazy !== undefined;
          if (driver.restoreItself) {
            // the runtime restores its own container and owns it afterwards (LXC's monitor, podman's state)
            const restored = await driver.restoreItself({ imagesDir, timeoutMs: restoreDeadline.bound() });
            restoredPid = restored.pid;
            record = records.update(record, { restoreStats: { pagesRestored: restored.pagesRestored, restoreTimeUs: restored.restoreTimeUs, forkingTimeUs: undefined }, restoredAt: Date.now(), restoredOn: ctx.localNode });
            return;
          }
          const lazyWorkDir = record.lazy ? await startLazyPages(ctx, imagesDir, record.lazy, restoreDeadline) : undefined;
          // a lazy restore whose pages stop coming would wait for them until the deadline: give up when lazy-pages does
          const watch = lazyWorkDir ? watchLazyPages(config.name) : undefined;
          const restoreStats = await ctx.criu.restore(
            { imagesDir, pidFile, rootPidFile, externals: (await driver.restoreWiring()).externals, ...(lazyWorkDir ? { lazyWorkDir } : {}) },
            restoreDeadline.bound(), watch?.signal,
          ).finally(() => watch?.stop());
          const restoredAt = Date.now();
          restoredPid = Number(readFileSync(pidFile, 'utf8').trim());
          await driver.adoptRestored(restoredPid);
          record = records.update(record, { restoreStats, restoredAt, restoredOn: ctx.localNode });
        },
        undo: async () => {
          store.keepFailureLog(record.id, 'restore.log');
          await driver.stop(); // kills whatever CRIU created, found through the restore intent's pidfile
          if (record.lazy) await stopBackground(config.name, 'lazy-pages');
          removePidFiles();
        },
      },
    ]);
  } catch (err) {
    if (err instanceof PhaseError && err.failure instanceof FerryError) throw new FerryError(err.failure.kind, err.message);
    // a start's resume learns the container moved on since: its caller sets this copy aside (start.ts)
    if (mode === 'resume' && err instanceof PhaseError && err.failure instanceof RestoredElsewhere) throw err.failure;
    const reason = err instanceof Error ? err.message : String(err);
    // a checkpoint made by stop is set aside by the start that could not resume it (start.ts)
    throw failed(`restoring ${config.name} on ${ctx.localNode} failed at ${reason}`
      + (mode === 'resume' && isStopCheckpoint(record) ? '' : '; the checkpoint is kept and resumed by the next start'));
  }

  removePidFiles();
  record = records.update(record, { phase: 'restored' });
  // The container runs here and the record says so: nothing after this may fail the action, or Pacemaker stops a
  // container whose checkpoint is spent and the next start is a fresh one. Each step that fails is logged instead.
  const pid = restoredPid;
  const address = driver.address();
  if (pid !== undefined) await afterRestore('releasing CRIU\'s network lock', () => releaseStaleNetworkLock(pid, RESTORED_WITH_RULESET));
  if (address && pid !== undefined) await afterRestore(`announcing ${address}`, () => announceAddress(pid, address));
  const summary = summarize(record);
  await afterRestore('writing the migration\'s figures', () => writeJsonAtomic(store.statsPath(), summary));
  logger.info(describeSummary(summary));
  await afterRestore('retiring the other copies', () => retireOtherCopies(ctx, record));
  // lazy: the images are still read while pages arrive; whoever sees the last page in removes them (lazy.ts)
  if (!config.keep_images && !record.lazy) await afterRestore('removing the images', () => records.removeImages(record.id));
  await afterRestore('releasing the claim', () => records.releaseClaim(record.id));
  return summary;
}

async function afterRestore(what: string, step: () => unknown): Promise<void> {
  try {
    await step();
  } catch (err) {
    logger.warning(`restored, but ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
