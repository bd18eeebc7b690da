/** After stop on a node: release a claim this node still holds, so the checkpoint can be resumed elsewhere. */
import type { Config } from '../settings/params.js';
import { StateStore } from '../storage/state-store.js';
import { RecordStore } from './record.js';
import { logger } from '../util/log.js';
import { releaseOtherCopies } from './peer-claims.js';

export async function releaseLocalClaims(config: Config, localNode: string): Promise<void> {
  if (!config.state_dir) return;
  const records = new RecordStore(new StateStore(config.state_dir, config.name));
  let record;
  try {
    record = records.read();
  } catch (err) {
    logger.warning(err instanceof Error ? err.message : String(err));
    return;
  }
  if (!record || record.phase !== 'restoring') return;
  if (records.claimOwner(record.id) !== localNode) return;
  records.releaseClaim(record.id);
  const released = records.update(record, { phase: 'dumped' });
  if (config.storage === 'none') await releaseOtherCopies({ config, localNode }, released);
  logger.info(`released this node's claim on checkpoint ${record.id}; the next start resumes it`);
}
