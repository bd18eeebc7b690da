/** start: the engine starts the container, or resumes it from the checkpoint of an unfinished migration. */
import { OCF, type OcfCode } from '../exit-codes.js';
import { openContainer, type ActionContext } from '../context.js';

export async function start(ctx: ActionContext): Promise<OcfCode> {
  const { startContainer } = await import('../../migrate/start.js');
  const config = ctx.config();
  const here = await openContainer(ctx, config);
  await startContainer(here);
  if (config.autoset_utilization_memory || config.autoset_utilization_cpu) {
    const { autosetUtilization, forgetUtilization } = await import('../utilization.js');
    forgetUtilization(config.name); // what an earlier run here wrote may no longer be in the CIB
    await autosetUtilization(ctx.environment.resourceInstance, here);
  } else {
    const { watchRunning } = await import('../../migrate/watch.js');
    watchRunning(ctx.environment.resourceInstance, config, 0);
  }
  return OCF.SUCCESS;
}
