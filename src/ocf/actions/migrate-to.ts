/** migrate_to, on the source node: the engine checkpoints the container for OCF_RESKEY_CRM_meta_migrate_target. */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import { openContainer, type ActionContext } from '../context.js';

export async function migrateTo(ctx: ActionContext): Promise<OcfCode> {
  const { requireMigratable } = await import('../../migrate/validate.js');
  const config = ctx.config();
  requireMigratable({ config });
  const target = ctx.environment.migrateTarget;
  if (!target) throw new OcfError(OCF.ERR_ARGS, 'migrate_to needs OCF_RESKEY_CRM_meta_migrate_target (set by Pacemaker)');
  const { migrateAway } = await import('../../migrate/send.js');
  await migrateAway(await openContainer(ctx, config, ctx.environment.migrateSource), target);
  return OCF.SUCCESS;
}
