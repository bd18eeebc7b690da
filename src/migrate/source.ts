/**
 * The source side of a migration (migrate_to): checkpoint the running container into shared storage for the
 * target. A failed dump leaves the container running here (CRIU resumes it); a successful one leaves complete
 * images and the record in phase "dumped", and nothing running here.
 */
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OCF, OcfError } from '../ocf/exit-codes.js';
import { capabilities } from '../criu/capabilities.js';
import { releaseStaleNetworkLock } from '../criu/network-lock.js';
import { ensurePrivateDir } from '../util/files.js';
import { logger } from '../util/log.js';
import { processesInPidNamespace, namespaceOf } from '../util/proc.js';
import { residentBytes } from '../util/memory.js';
import { attachedFromOutside } from '../runtime/attached.js';
import { freeBytes, stateDirProblem } from '../storage/shared.js';
import { planMigration } from './plan.js';
import { newMigrationId, type MigrationRecord } from './record.js';
import { runPhases, PhaseError } from './phases.js';
import { restoreCheckpoint } from './target.js';
import { ROLLBACK_RESERVE_MS, type EngineContext } from './context.js';

/** Images need about the resident memory plus metadata; keep a margin so a full disk is refused up front. */
const SPACE_FACTOR = 1.2;
const SPACE_SLACK = 16 * 1024 * 1024;

function sealImages(dir: string): void {
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o600);
}

export async function checkpointForTarget(ctx: EngineContext, target: string): Promise<MigrationRecord> {
  const { config, driver, records, store } = ctx;
  const pid = driver.checkpointRoot();
  if (pid === undefined) throw new OcfError(OCF.ERR_GENERIC, `container ${config.name} is not running on ${ctx.localNode}: nothing to migrate`);
  if (target === ctx.localNode) throw new OcfError(OCF.ERR_ARGS, `migration target ${target} is this node`);

  const problem = stateDirProblem(config.state_dir ?? '');
  if (problem) throw new OcfError(OCF.ERR_INSTALLED, problem);
  const caps = await capabilities(config.criu_binary);
  if (!caps.criuCheck.ok) throw new OcfError(OCF.ERR_INSTALLED, `criu check fails on ${ctx.localNode}: ${caps.criuCheck.output}`);
  const plan = planMigration(config.migration_type, caps, config.migration_type_strict);
  if (!plan.ok) throw new OcfError(OCF.ERR_GENERIC, plan.reason);
  for (const f of plan.fallbacks) logger.notice(f);

  store.ensure();
  const pidNamespace = namespaceOf(pid, 'pid');
  const intruders = pidNamespace ? attachedFromOutside(pid, pidNamespace) : [];
  if (intruders.length) {
    throw new OcfError(OCF.ERR_GENERIC, `not migrating ${config.name}: process(es) attached from outside the container cannot be `
      + `checkpointed with it: ${intruders.map((i) => `${i.pid} (${i.command})`).join(', ')}; end them and retry`);
  }
  const need = Math.round(residentBytes(pidNamespace ? processesInPidNamespace(pidNamespace) : [pid]) * SPACE_FACTOR) + SPACE_SLACK;
  const free = freeBytes(store.root);
  if (free < need) {
    throw new OcfError(OCF.ERR_GENERIC, `state_dir ${config.state_dir} has ${(free / 1048576).toFixed(0)} MiB free, `
      + `the checkpoint needs about ${(need / 1048576).toFixed(0)} MiB: not migrating, ${config.name} keeps running on ${ctx.localNode}`);
  }

  const id = newMigrationId();
  const imagesDir = store.imagesDir(id);
  let record: MigrationRecord = {
    id, name: config.name, source: ctx.localNode, target, requestedType: config.migration_type, type: plan.type,
    phase: 'dumping', dumpStartedAt: Date.now(), updatedAt: '',
  };
  const dumpDeadline = ctx.deadline.reserve(ROLLBACK_RESERVE_MS);

  try {
    await runPhases([
      {
        name: 'prepare',
        run: async () => {
          const removed = records.removeStale();
          if (removed.length) logger.info(`removed leftovers of earlier migrations: ${removed.join(', ')}`);
          ensurePrivateDir(imagesDir);
          record = records.write(record);
        },
        undo: async () => {
          if (driver.checkpointRoot() === undefined) return; // the tree is gone: the images are all that is left of it
          records.removeImages(id);
          record = records.update(record, { phase: 'aborted' });
        },
      },
      {
        name: 'freeze+dump',
        run: async () => {
          logger.info(`checkpointing ${config.name} (pid ${pid}) for ${target}: ${plan.type} migration`);
          record = records.update(record, { dumpStartedAt: Date.now() });
          const dumpStats = await ctx.criu.dump({ pid, imagesDir, networkLock: caps.networkLock }, dumpDeadline.bound());
          record = records.update(record, { dumpStats, dumpedAt: Date.now() });
        },
        undo: async () => {
          // CRIU resumes the tree when a dump fails; if CRIU itself died, its network lock may be left behind
          if (driver.checkpointRoot() !== undefined) {
            store.keepFailureLog(id, 'dump.log');
            await releaseStaleNetworkLock(pid);
          } else if (records.imagesComplete(id)) {
            // dumped, but the migration cannot go on: bring the container back here from its own checkpoint
            record = records.update(record, { phase: 'dumped' });
            await restoreCheckpoint(ctx, record, 'rollback');
          }
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
  } catch (err) {
    const stillHere = driver.checkpointRoot() !== undefined;
    const reason = err instanceof PhaseError ? err.message : String(err);
    throw new OcfError(OCF.ERR_GENERIC, `migration of ${config.name} to ${target} failed at ${reason}; `
      + (stillHere ? `${config.name} keeps running on ${ctx.localNode}` : `${config.name} is no longer running on ${ctx.localNode}`));
  }
  logger.info(`checkpoint ${id} of ${config.name} complete: ${record.dumpStats?.pagesWritten ?? '?'} pages, frozen ${((record.dumpStats?.frozenTimeUs ?? 0) / 1000).toFixed(0)} ms`);
  return record;
}
