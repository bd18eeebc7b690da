/**
 * Restoring a checkpoint on this node: for migrate_from (the target of a migration), for start (resuming the
 * checkpoint of a migration that did not finish) and for rolling back on the source. The claim makes sure one
 * checkpoint is restored on one node only (with storage=none, on every node holding a copy: peer-claims.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { OCF, OcfError } from '../ocf/exit-codes.js';
import { capabilities } from '../criu/capabilities.js';
import { logger } from '../util/log.js';
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../util/files.js';
import { runDir, writeRestoreIntent } from '../runtime/local-record.js';
import { announceAddress } from '../net/announce.js';
import { releaseStaleNetworkLock, RESTORED_WITH_RULESET } from '../criu/network-lock.js';
import { runPhases, PhaseError } from './phases.js';
import { type MigrationRecord } from './record.js';
import { describeSummary, summarize, type MigrationSummary } from './summary.js';
import { ROLLBACK_RESERVE_MS, type EngineContext } from './context.js';
import { claimOtherCopies, releaseOtherCopies, retireOtherCopies } from './peer-claims.js';
import { startLazyPages, stopBackground, watchLazyPages } from './lazy.js';

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

export async function restoreCheckpoint(ctx: EngineContext, start: MigrationRecord, mode: RestoreMode): Promise<MigrationSummary> {
  const { config, driver, records, store } = ctx;
  let record = start;
  const imagesDir = store.imagesDir(record.id);
  const pidFile = join(runDir(), `${config.name}.restored.pid`);
  let restoredPid: number | undefined;
  /** A lazy checkpoint's page server serves one session: once a restore has tried, it cannot be tried again. */
  let lazySpent = false;

  try {
    await runPhases([
      {
        name: 'claim',
        run: async () => {
          if (!records.imagesComplete(record.id)) throw new Error(`checkpoint ${record.id} is incomplete (no inventory.img in ${imagesDir})`);
          const caps = await capabilities(config.criu_binary);
          if (!caps.criuCheck.ok) throw new OcfError(OCF.ERR_INSTALLED, `criu check fails on ${ctx.localNode}: ${caps.criuCheck.output}`);
          await claimOtherCopies(ctx, record);
          try {
            claimOrTakeOver(ctx, record, mode);
          } catch (err) {
            await releaseOtherCopies(ctx, record);
            throw err;
          }
          record = records.update(record, { phase: 'restoring', restoreStartedAt: Date.now() });
        },
        undo: async () => {
          records.releaseClaim(record.id);
          record = records.update(record, lazySpent
            ? { phase: 'aborted', lastError: 'the lazy restore failed, and the page server serves one restore only' }
            : { phase: 'dumped' });
          await releaseOtherCopies(ctx, record);
        },
      },
      {
        name: 'restore',
        run: async () => {
          await driver.prepareRestore();
          rmSync(pidFile, { force: true }); // CRIU refuses to write an existing pidfile, after creating the tasks
          writeRestoreIntent({ name: config.name, pidFile, migrationId: record.id, since: new Date().toISOString() });
          logger.info(`restoring ${config.name} from checkpoint ${record.id} (${mode}${record.lazy ? `, memory from ${record.lazy.address}:${record.lazy.port}` : ''})`);
          const restoreDeadline = ctx.deadline.reserve(ROLLBACK_RESERVE_MS);
          lazySpent = record.lazy !== undefined;
          const lazyWorkDir = record.lazy ? await startLazyPages(ctx, imagesDir, record.lazy, restoreDeadline) : undefined;
          // a lazy restore whose pages stop coming would wait for them until the deadline: give up when lazy-pages does
          const watch = lazyWorkDir ? watchLazyPages(config.name) : undefined;
          const restoreStats = await ctx.criu.restore(
            { imagesDir, pidFile, externals: (await driver.restoreWiring()).externals, ...(lazyWorkDir ? { lazyWorkDir } : {}) },
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
          rmSync(pidFile, { force: true });
        },
      },
    ]);
  } catch (err) {
    if (err instanceof PhaseError && err.failure instanceof OcfError) throw new OcfError(err.failure.code, err.message);
    const reason = err instanceof Error ? err.message : String(err);
    throw new OcfError(OCF.ERR_GENERIC, `restoring ${config.name} on ${ctx.localNode} failed at ${reason}; `
      + `the checkpoint is kept and resumed by the next start`);
  }

  rmSync(pidFile, { force: true });
  if (restoredPid !== undefined) await releaseStaleNetworkLock(restoredPid, RESTORED_WITH_RULESET);
  if (config.ip && restoredPid !== undefined) await announceAddress(restoredPid, config.ip.address);
  record = records.update(record, { phase: 'restored' });
  const summary = summarize(record);
  writeJsonAtomic(store.statsPath(), summary);
  logger.info(describeSummary(summary));
  await retireOtherCopies(ctx, record);
  // lazy: the images are still read while pages arrive; whoever sees the last page in removes them (lazy.ts)
  if (!config.keep_images && !record.lazy) records.removeImages(record.id);
  records.releaseClaim(record.id);
  return summary;
}
