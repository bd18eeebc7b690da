/**
 * validate-all: level 0 checks the parameters (and what allow-migrate=true needs); OCF_CHECK_LEVEL=10 also whether
 * this node can run the container and receive it by its migration_type.
 */
import { OCF, type OcfCode } from '../exit-codes.js';
import { openContainer, type ActionContext } from '../context.js';

export async function validateAll(ctx: ActionContext): Promise<OcfCode> {
  const { validate } = await import('../../migrate/validate.js');
  await validate(await openContainer(ctx, ctx.config()), { migratable: ctx.environment.allowMigrate, deep: ctx.environment.checkLevel >= 10 });
  return OCF.SUCCESS;
}
