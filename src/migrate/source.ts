/**
 * The source side of a migration (migrate_to): checkpoint the running container into state_dir for the target
 * (shared storage; with storage=none the images are then sent to the target's helper). A failed dump leaves the
 * container running here (CRIU resumes it); a successful one leaves complete images and the record in phase
 * "dumped", and nothing running here.
 */
import { join } from 'node:path';
import { failed, FerryError, type FailureKind } from '../util/errors.js';
import type { MigrationType } from '../settings/params.js';
import { releaseStaleNetworkLock } from '../criu/network-lock.js';
import { ensurePrivateDir, writeJsonAtomic } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { logger } from '../util/log.js';
import { precheck, type Precheck } from './precheck.js';
import { isLazy, precopies, type Plan } from './plan.js';
import { retentionOf } from './image-sweep.js';
import { newMigrationId, type MigrationRecord } from './record.js';
import { runPhases, PhaseError } from './phases.js';
import { sealImages } from './seal.js';
import { restoreCheckpoint } from './target.js';
import { ROLLBACK_RESERVE_MS, type EngineContext } from './context.js';
import { transferPath, sendCheckpoint, sendRound, type TransferPath } from './transfer.js';
import { reachPeer, type PeerView } from './peer.js';
import { storageFor, type StorageLifecycle } from '../storage/lifecycle.js';
import { abandonLazyDump, pageServerAddress, startLazyDump } from './lazy.js';
import { precopy, type PrecopyReport } from './precopy.js';
import type { PageServerAddress } from '../criu/args.js';
import { finalSyncFiles, preSyncFiles, type Baseline } from './file-sync.js';


/**
 * A lazy plan needs an address of this node the target reaches (the migration network's, when usable) for the
 * page server; without one it falls back to simple, or fails with migration_type_strict.
 */
async function withPageServer(ctx: EngineContext, peer: PeerView, plan: Extract<Plan, { ok: true }>, path: TransferPath | undefined):
  Promise<{ plan: Extract<Plan, { ok: true }>; serve: PageServerAddress | undefined }> {
  const { target } = peer;
  if (!isLazy(plan.type)) return { plan, serve: undefined };
  // without its lazy half, iterative+lazy is still iterative
  const without: MigrationType = plan.type === 'iterative+lazy' ? 'iterative' : 'simple';
  const fallBack = (problem: string, kind: FailureKind) => {
    if (ctx.config.migration_type_strict) {
      throw new FerryError(kind, `not migrating ${ctx.config.name} to ${target}: ${plan.type} migration needs ${problem} and migration_type_strict=true; `
        + `${ctx.config.name} keeps running on ${ctx.localNode}`);
    }
    return { plan: { ...plan, type: without, fallbacks: [...plan.fallbacks, `${plan.type} needs ${problem}: falling back to ${without}`] }, serve: undefined };
  };
  if (ctx.config.migration_speed > 0) {
    return fallBack(`a connection Ferry can pace to migration_speed=${ctx.config.migration_speed} MiB/s (CRIU's page server sends at full speed)`, 'misconfigured');
  }
  if (ctx.config.storage === 'drbd') {
    return fallBack('images both nodes can read while the pages move (with storage=drbd the source gives the device up first)', 'misconfigured');
  }
  const found = await pageServerAddress(peer, path, ctx.config.require_migration_network);
  if ('address' in found) return { plan, serve: found };
  return fallBack(found.problem, 'refused');
}

/**
 * storage=drbd, after the dump: the device goes to the target only while the peer is connected and UpToDate up to
 * the demote (protocol C: then it has every byte of the checkpoint). Otherwise (the link went away during the
 * dump, say) the device stays Primary here with the checkpoint on it, and migrate_to fails without resuming:
 * Pacemaker then stops the resource (this node demotes alone, so only it may promote again) and its start
 * resumes the checkpoint, on the only node that holds it.
 */
async function handOverDevice(ctx: EngineContext, storage: StorageLifecycle, record: MigrationRecord): Promise<void> {
  const { config } = ctx;
  try {
    const ms = await storage.handOff();
    // the record is on the device just given up: the source's side of the figures stays on this node
    ensurePrivateDir(join(runDir(), 'drbd'));
    writeJsonAtomic(join(runDir(), 'drbd', `${config.name}.handoff.json`), { id: record.id, ...ms });
  } catch (err) {
    await storage.attach().catch((e: unknown) => logger.err(`could not take DRBD ${config.drbd_resource ?? '?'} back: ${e instanceof Error ? e.message : String(e)}`));
    throw failed(`checkpointed ${config.name}, but handing DRBD ${config.drbd_resource ?? '?'} over to ${record.target} failed: `
      + `${err instanceof Error ? err.message : String(err)}; the checkpoint is kept on ${ctx.localNode} and the next start resumes it`);
  }
}

export async function checkpointForTarget(ctx: EngineContext, target: string): Promise<MigrationRecord> {
  const { config, driver, records, store } = ctx;
  const storage = storageFor(config);
  const peer = await reachPeer(ctx, target);
  const checked = await precheck(ctx, target, peer);
  const fatal = checked.findings.find((f) => f.fatal);
  if (fatal) {
    throw new FerryError(fatal.kind, `not migrating ${config.name} to ${target} (${fatal.check}): ${fatal.detail}; `
      + `${checked.pid !== undefined ? `${config.name} keeps running on ${ctx.localNode}` : 'nothing was changed'}`);
  }
  // what was let through although it failed (a forced CPU mismatch, the CPUs not compared, an unknown target): said once, here
  for (const f of checked.findings) if (!f.ok) logger.warning(`${f.check}: ${f.detail}`);
  const { pid, caps, plan: planned } = checked as { pid: number; caps: NonNullable<Precheck['caps']>; plan: Extract<Plan, { ok: true }> };
  const path = config.storage === 'none' ? transferPath(ctx, peer) : undefined;
  const { plan, serve } = await withPageServer(ctx, peer, planned, path);
  for (const f of plan.fallbacks) logger.notice(f);
  // storage=none: a root filesystem on this node's disk moves with the container
  const movedRoot = path ? driver.movedFiles?.() : undefined;
  let baseline: Baseline | undefined;
  store.ensure();

  const id = newMigrationId();
  const imagesDir = store.imagesDir(id);
  let record: MigrationRecord = {
    id, name: config.name, source: ctx.localNode, target, requestedType: config.migration_type, type: plan.type,
    phase: 'dumping', dumpStartedAt: Date.now(), updatedAt: '', ...(serve ? { lazy: serve } : {}), retention: retentionOf(config),
    ...(driver.runtimeConfig ? { runtimeConfig: driver.runtimeConfig() } : {}),
    ...(movedRoot ? { files: { root: movedRoot } } : {}),
  };
  const dumpDeadline = ctx.deadline.reserve(ROLLBACK_RESERVE_MS);
  let pre: PrecopyReport | undefined;

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
        name: 'files pre-sync',
        run: async () => {
          if (!movedRoot || !path) return;
          const pre = await preSyncFiles(ctx, record, path, movedRoot);
          baseline = pre.baseline;
          record = records.update(record, { files: { root: movedRoot, preSync: { ms: pre.ms, bytes: pre.bytes } } });
        },
      },
      {
        name: 'pre-copy',
        run: async () => {
          if (!precopies(plan.type)) return;
          // with storage=none each round travels while the container runs, so the final transfer is small
          pre = await precopy(ctx, pid, imagesDir, dumpDeadline, path ? (dir) => sendRound(ctx, record, path, dir) : undefined);
          record = records.update(record, { precopy: { rounds: pre.rounds.map((r) => ({ pages: r.pagesWritten, ms: r.ms, frozenMs: r.frozenMs })), why: pre.why } });
        },
      },
      {
        name: 'freeze+dump',
        run: async () => {
          logger.info(`checkpointing ${config.name} (pid ${pid}) for ${target}: ${plan.type} migration`);
          // kept in memory until the seal: every record write is an fsync, and from here the container is frozen
          const dumpStartedAt = Date.now();
          record = { ...record, networkLock: caps.networkLock };
          const runtimeOptions = await driver.dumpOptions(pid);
          if (driver.dumpItself) {
            // the runtime checkpoints its own container (podman): the planner allowed no pre-copy and no lazy pages
            const dumpStats = await driver.dumpItself({ imagesDir, networkLock: caps.networkLock, timeoutMs: dumpDeadline.bound() });
            record = { ...record, dumpStartedAt, ...(dumpStats ? { dumpStats } : {}), dumpedAt: Date.now() };
          } else if (serve) {
            // the images are complete when this returns; the memory stays with the page server until fetched
            // the tree stays frozen here until the target has fetched every page (then CRIU kills it)
            const lazy = await startLazyDump(ctx, { pid, imagesDir, networkLock: caps.networkLock, runtimeOptions, serve, parentDir: pre?.parentDir }, dumpDeadline);
            record = { ...record, dumpStartedAt: lazy.criuStartedAt ?? dumpStartedAt, dumpStats: lazy.dumpStats, dumpedAt: Date.now() };
          } else if (pre?.parentDir) {
            const dumpStats = await ctx.criu.finalDump({ pid, imagesDir, networkLock: caps.networkLock, runtimeOptions, parentDir: pre.parentDir }, dumpDeadline.bound(), driver.criuLock);
            record = { ...record, dumpStartedAt, dumpStats, dumpedAt: Date.now() };
          } else {
            const dumpStats = await ctx.criu.dump({ pid, imagesDir, networkLock: caps.networkLock, runtimeOptions }, dumpDeadline.bound(), driver.criuLock);
            record = { ...record, dumpStartedAt, dumpStats, dumpedAt: Date.now() };
          }
        },
        undo: async () => {
          if (serve) await abandonLazyDump(config.name);
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
          record = records.update(record, { phase: 'dumped' });
          sealImages(imagesDir);
          driver.forget();
        },
      },
    ]);
  } catch (err) {
    const stillHere = driver.checkpointRoot() !== undefined;
    const reason = err instanceof PhaseError ? err.message : String(err);
    throw failed(`migration of ${config.name} to ${target} failed at ${reason}; `
      + (stillHere ? `${config.name} keeps running on ${ctx.localNode}` : `${config.name} is no longer running on ${ctx.localNode}`));
  }
  logger.info(serve
    ? `checkpoint ${id} of ${config.name} complete but for its memory, which ${serve.address}:${serve.port} serves until the target has it all`
    : `checkpoint ${id} of ${config.name} complete: ${record.dumpStats?.pagesWritten ?? '?'} pages, frozen ${((record.dumpStats?.frozenTimeUs ?? 0) / 1000).toFixed(0)} ms`);
  if (config.storage === 'drbd') await handOverDevice(ctx, storage, record);
  if (!path) return record;
  if (baseline) {
    try {
      const finalSync = await finalSyncFiles(ctx, record, path, baseline);
      record = records.update(record, { files: { ...(record.files ?? { root: baseline.root }), finalSync } });
    } catch (err) {
      throw failed(`checkpointed ${config.name}, but sending what changed in ${baseline.root} to ${target} failed: `
        + `${err instanceof Error ? err.message : String(err)}; the checkpoint is kept on ${ctx.localNode} and the next start resumes it`);
    }
  }
  try {
    return (await sendCheckpoint(ctx, record, path)).record;
  } catch (err) {
    // no rollback here: Pacemaker stops and starts the resource after a failed migrate_to, and that start
    // resumes this checkpoint, which a rollback now would only have made stale
    throw failed(`checkpointed ${config.name}, but sending checkpoint ${id} to ${target} failed: `
      + `${err instanceof Error ? err.message : String(err)}; the checkpoint is kept on ${ctx.localNode} and the next start resumes it`);
  }
}
