/**
 * validate-all: level 0 checks the parameters; OCF_CHECK_LEVEL=10 also whether this node can run the container
 * and receive it by its migration_type (programs, CRIU and the kernel features, state_dir, bridge, DRBD).
 */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import type { ActionContext } from '../context.js';
import { migrationProblems } from '../config.js';
import { requireBridge, requireCriuWorks, requirePrograms, requireStateDir } from './local-checks.js';

export async function validateAll(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.config();
  if (ctx.environment.allowMigrate) {
    const [problem] = migrationProblems(config);
    if (problem) throw new OcfError(OCF.ERR_CONFIGURED, problem.message);
  }
  if (ctx.environment.checkLevel >= 10) {
    const { requireDrbdResource, requireReceivable, stateDirElsewhere } = await import('./receive-checks.js');
    requirePrograms(config);
    if (!stateDirElsewhere(config)) requireStateDir(config);
    await requireDrbdResource(config);
    await requireBridge(config);
    const caps = await requireCriuWorks(config);
    if (config.state_dir) requireReceivable(config, caps);
  }
  return OCF.SUCCESS;
}
