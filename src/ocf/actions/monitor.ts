/** monitor and probes: the engine's answer, as OCF codes (a probe is the engine's "first look"). */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import { openContainer, type ActionContext } from '../context.js';
import { containerHealth } from '../../migrate/health.js';
import { watchRunning } from '../../migrate/watch.js';

export async function monitor(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.config();
  const here = await openContainer(ctx, config);
  const health = await containerHealth(here, ctx.probe);
  switch (health.state) {
    case 'running':
      if (config.autoset_utilization_memory || config.autoset_utilization_cpu) {
        // the utilization is set from the container's size by each recurring monitor: not by the fast path
        if (!ctx.probe) {
          const { autosetUtilization } = await import('../utilization.js');
          await autosetUtilization(ctx.environment.resourceInstance, here);
        }
      } else {
        watchRunning(ctx.environment.resourceInstance, config, ctx.environment.intervalMs);
      }
      return OCF.SUCCESS;
    case 'stopped': return OCF.NOT_RUNNING;
    case 'failed': throw new OcfError(OCF.ERR_GENERIC, health.reason);
  }
}
