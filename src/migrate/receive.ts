/**
 * The target's side of a migration (migrate_from): with storage=drbd take the device over, find the checkpoint
 * the source made for this node (with storage=none, received through the helper), and restore it. A failed restore
 * gives a DRBD device back, so the source can take it again and resume the checkpoint there.
 */
import { failed, messageOf } from '../util/errors.js';
import { logger } from '../util/log.js';
import type { ContainerHere } from './container.js';
import type { EngineContext } from './context.js';
import { requireMovable } from './validate.js';

/** `source`: the node the migration comes from, when known; then a checkpoint from any other is refused. */
export async function receiveMigration(here: ContainerHere, source: string | undefined): Promise<void> {
  await requireMovable(here);
  const { config } = here;
  const { engineContext } = await import('./context.js');
  const engine = engineContext(config, await here.localNode(), here.driver, here.deadline);
  if (config.storage !== 'drbd') {
    await restoreHere(engine, source);
    return;
  }
  const { storageFor } = await import('../storage/lifecycle.js');
  const storage = storageFor(config);
  const storageMs = await storage.takeOver();
  try {
    await restoreHere(engine, source, storageMs);
  } catch (err) {
    // give the device back, so that the source can take it again and resume the checkpoint
    await storage.detach().catch((e: unknown) => logger.err(`could not release DRBD after the failed restore: ${messageOf(e)}`));
    throw err;
  }
}

async function restoreHere(engine: EngineContext, source: string | undefined, storageMs?: Record<string, number>): Promise<void> {
  const { config, driver, localNode } = engine;
  const { restoreCheckpoint } = await import('./target.js');
  const { requirePrograms, requireStateDir } = await import('./node-checks.js');
  if (config.storage === 'none') {
    const { adoptReceived } = await import('./record.js');
    const adopted = adoptReceived(engine.records, (r) => r.target === localNode && (!source || r.source === source));
    if (adopted) logger.info(`received checkpoint ${adopted.id} of ${config.name} from ${adopted.source}`);
  }
  const found = engine.records.read();
  const record = found && storageMs && (found.phase === 'dumped' || found.phase === 'restoring') ? engine.records.update(found, { storageMs }) : found;

  if (record?.phase === 'restored' && record.restoredOn === localNode && driver.status().state === 'running') {
    logger.info(`${config.name} was already restored here from checkpoint ${record.id}`);
    return;
  }
  if (!record || (record.phase !== 'dumped' && record.phase !== 'restoring')) {
    throw failed(`no checkpoint of ${config.name} to restore in ${engine.store.root}`
      + (record ? ` (last migration ${record.id} is ${record.phase})` : ''));
  }
  if (record.target !== localNode || (source && record.source !== source)) {
    throw failed(`checkpoint ${record.id} is for ${record.source} -> ${record.target}, not ${source ?? '?'} -> ${localNode}`);
  }
  await requirePrograms(config, driver);
  requireStateDir(config);
  await restoreCheckpoint(engine, record, 'migrate');
}
