/** validate-all: level 0 checks the parameters; OCF_CHECK_LEVEL=10 also this node (CRIU works, state_dir, bridge). */
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
    requirePrograms(config);
    requireStateDir(config);
    await requireBridge(config);
    await requireCriuWorks(config);
  }
  return OCF.SUCCESS;
}
