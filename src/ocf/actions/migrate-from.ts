/** migrate_from, on the target node: the engine restores the checkpoint OCF_RESKEY_CRM_meta_migrate_source made for this node. */
import { OCF, type OcfCode } from '../exit-codes.js';
import { openContainer, type ActionContext } from '../context.js';

export async function migrateFrom(ctx: ActionContext): Promise<OcfCode> {
  const { receiveMigration } = await import('../../migrate/receive.js');
  await receiveMigration(await openContainer(ctx, ctx.config(), ctx.environment.migrateTarget), ctx.environment.migrateSource);
  return OCF.SUCCESS;
}
