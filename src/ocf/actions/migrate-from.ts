/** migrate_from, on the target node: restore the checkpoint the source wrote for this node. */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import type { ActionContext } from '../context.js';
import { migrationProblems } from '../config.js';
import { loadDriver } from '../../runtime/driver.js';
import { localNodeName } from '../../util/node-name.js';
import { logger } from '../../util/log.js';
import type { EngineContext } from '../../migrate/context.js';

export async function migrateFrom(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.config();
  const [problem] = migrationProblems(config);
  if (problem) throw new OcfError(OCF.ERR_CONFIGURED, problem.message);
  const { engineContext } = await import('../../migrate/context.js');
  const local = ctx.environment.onNode ?? ctx.environment.migrateTarget ?? await localNodeName(process.env);
  const driver = await loadDriver(config);
  const engine = engineContext(config, local, driver, ctx.deadline);
  const source = ctx.environment.migrateSource;
  if (config.storage === 'drbd') {
    const { storageFor } = await import('../../storage/lifecycle.js');
    const storage = storageFor(config);
    const storageMs = await storage.takeOver();
    try {
      return await restoreHere(engine, source, local, storageMs);
    } catch (err) {
      // give the device back, so that the source can take it again and resume the checkpoint
      await storage.detach().catch((e: unknown) => logger.err(`could not release DRBD after the failed restore: ${e instanceof Error ? e.message : String(e)}`));
      throw err;
    }
  }
  return restoreHere(engine, source, local);
}

async function restoreHere(engine: EngineContext, source: string | undefined, local: string, storageMs?: Record<string, number>): Promise<OcfCode> {
  const { config, driver } = engine;
  const { restoreCheckpoint } = await import('../../migrate/target.js');
  const { requireBridge, requirePrograms, requireStateDir } = await import('./local-checks.js');
  if (config.storage === 'none') {
    const { adoptReceived } = await import('../../migrate/record.js');
    const adopted = adoptReceived(engine.records, (r) => r.target === local && (!source || r.source === source));
    if (adopted) logger.info(`received checkpoint ${adopted.id} of ${config.name} from ${adopted.source}`);
  }
  const found = engine.records.read();
  const record = found && storageMs && (found.phase === 'dumped' || found.phase === 'restoring') ? engine.records.update(found, { storageMs }) : found;

  if (record?.phase === 'restored' && record.restoredOn === local && driver.status().state === 'running') {
    logger.info(`${config.name} was already restored here from checkpoint ${record.id}`);
    return OCF.SUCCESS;
  }
  if (!record || (record.phase !== 'dumped' && record.phase !== 'restoring')) {
    throw new OcfError(OCF.ERR_GENERIC, `no checkpoint of ${config.name} to restore in ${engine.store.root}`
      + (record ? ` (last migration ${record.id} is ${record.phase})` : ''));
  }
  if (record.target !== local || (source && record.source !== source)) {
    throw new OcfError(OCF.ERR_GENERIC, `checkpoint ${record.id} is for ${record.source} -> ${record.target}, not ${source ?? '?'} -> ${local}`);
  }
  requirePrograms(config);
  requireStateDir(config);
  await requireBridge(config);
  await restoreCheckpoint(engine, record, 'migrate');
  return OCF.SUCCESS;
}
