/**
 * start: idempotent; resumes the checkpoint of an unfinished migration when there is one (nothing is lost),
 * else starts the container afresh. Returns once the container is up and monitor_cmd (if set) passes.
 */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import type { ActionContext } from '../context.js';
import { loadDriver, type ContainerDriver } from '../../runtime/driver.js';
import { logger } from '../../util/log.js';
import type { Config } from '../params.js';
import { requireBridge, requirePrograms, requireStateDir } from './local-checks.js';
import { localNodeName } from '../../util/node-name.js';
import type { EngineContext } from '../../migrate/context.js';

async function resumedFromCheckpoint(ctx: ActionContext, config: Config, driver: ContainerDriver): Promise<boolean> {
  if (!config.state_dir) return false;
  const { engineContext } = await import('../../migrate/context.js');
  const { pendingCheckpoint } = await import('../../migrate/record.js');
  const engine = engineContext(config, ctx.environment.onNode ?? await localNodeName(process.env), driver, ctx.deadline);
  if (config.storage === 'none') {
    const { adoptReceived } = await import('../../migrate/record.js');
    const adopted = adoptReceived(engine.records, () => true);
    if (adopted) logger.info(`found checkpoint ${adopted.id} of ${config.name} received from ${adopted.source}`);
  }
  let record = engine.records.read();
  const owner = record ? engine.records.claimOwner(record.id) : undefined;
  if (record && config.storage === 'none' && owner && owner !== engine.localNode && (record.phase === 'dumped' || record.phase === 'restoring')) {
    // the peer claimed this copy to restore its own: it has the container's state since, not this node
    logger.notice(`checkpoint ${record.id} was claimed by ${owner}, which restored it: not resuming it here`);
    record = engine.records.update(record, { phase: 'aborted', lastError: `restored on ${owner}` });
  }
  const pending = pendingCheckpoint(record, config.checkpoint_max_age);
  if (!record || !pending.resume) {
    if (record && (record.phase === 'dumped' || record.phase === 'restoring')) {
      logger.warning(`not resuming checkpoint ${record.id}: ${pending.resume ? '' : pending.why}; setting it aside and starting afresh`);
      engine.records.update(record, { phase: 'aborted', lastError: 'set aside by start' });
    }
    if (config.storage === 'none') await refuseIfHeldElsewhere(engine);
    return false;
  }
  logger.notice(`resuming ${config.name} from checkpoint ${record.id} of an unfinished migration (${record.source} -> ${record.target})`);
  const { restoreCheckpoint } = await import('../../migrate/target.js');
  await restoreCheckpoint(engine, record, 'resume');
  return true;
}

/** storage=none: a fresh start here would lose the checkpoint another node holds of an unfinished migration. */
async function refuseIfHeldElsewhere(engine: EngineContext): Promise<void> {
  const { checkpointHeldElsewhere } = await import('../../migrate/peer-claims.js');
  const { otherClusterNodes } = await import('../../util/node-name.js');
  const { config, localNode } = engine;
  const { held, unreachable } = await checkpointHeldElsewhere(engine, await otherClusterNodes(localNode));
  for (const u of unreachable) logger.warning(`cannot ask whether a peer holds a checkpoint of ${config.name}: ${u}`);
  if (!held) return;
  const ageS = Math.round((Date.now() - held.checkpoint.dumpedAt) / 1000);
  if (config.checkpoint_max_age === 0 || ageS > config.checkpoint_max_age) {
    logger.warning(`${held.node} holds checkpoint ${held.checkpoint.id} of ${config.name}, ${ageS} s old: too old to resume (checkpoint_max_age=${config.checkpoint_max_age}), starting afresh`);
    return;
  }
  throw new OcfError(OCF.ERR_GENERIC, `${held.node} holds checkpoint ${held.checkpoint.id} of an unfinished migration of ${config.name} `
    + `(${held.checkpoint.source} -> ${held.checkpoint.target}, ${ageS} s old); not starting afresh on ${localNode}, which would lose it: `
    + `start ${config.name} on ${held.node}, where it is resumed`);
}

async function waitHealthy(ctx: ActionContext, driver: ContainerDriver): Promise<void> {
  let last = '';
  const stopAt = ctx.deadline.at - 2000;
  for (;;) {
    try {
      await driver.healthCheck();
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (driver.status().state !== 'running') throw new Error(`the container exited while starting (${last})`);
    if (Date.now() + 500 > stopAt) throw new Error(`monitor_cmd did not pass before the start timeout: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function start(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.config();
  const driver = await loadDriver(config);
  const status = driver.status();
  if (status.state === 'running') {
    logger.info(`${config.name} is already running (${status.detail})`);
    return OCF.SUCCESS;
  }
  requirePrograms(config);
  if (config.storage === 'drbd') {
    const { storageFor } = await import('../../storage/lifecycle.js');
    await storageFor(config).attach(); // state_dir and the container's files are on the DRBD device
  }
  requireStateDir(config);
  await requireBridge(config);
  if (status.state === 'dead') await driver.stop(); // clear the record of a container that died

  try {
    if (!(await resumedFromCheckpoint(ctx, config, driver))) await driver.start();
    await waitHealthy(ctx, driver);
  } catch (err) {
    if (err instanceof OcfError) throw err;
    await driver.stop().catch(() => undefined);
    throw new OcfError(OCF.ERR_GENERIC, `could not start ${config.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return OCF.SUCCESS;
}
