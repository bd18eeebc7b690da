/** migrate_to, on the source node: checkpoint the container for OCF_RESKEY_CRM_meta_migrate_target. */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import type { ActionContext } from '../context.js';
import { migrationProblems } from '../config.js';
import { loadDriver } from '../../runtime/driver.js';
import { localNodeName } from '../../util/node-name.js';

export async function migrateTo(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.config();
  const [problem] = migrationProblems(config);
  if (problem) throw new OcfError(OCF.ERR_CONFIGURED, problem.message);
  const target = ctx.environment.migrateTarget;
  if (!target) throw new OcfError(OCF.ERR_ARGS, 'migrate_to needs OCF_RESKEY_CRM_meta_migrate_target (set by Pacemaker)');
  const { engineContext } = await import('../../migrate/context.js');
  const { checkpointForTarget } = await import('../../migrate/source.js');
  const local = ctx.environment.onNode ?? ctx.environment.migrateSource ?? await localNodeName(process.env);
  const engine = engineContext(config, local, await loadDriver(config), ctx.deadline);
  await checkpointForTarget(engine, target);
  return OCF.SUCCESS;
}
