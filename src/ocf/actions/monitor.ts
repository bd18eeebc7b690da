/** monitor and probes: the engine's answer, as OCF codes (a probe is the engine's "first look"). */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import { openContainer, type ActionContext } from '../context.js';
import { containerHealth } from '../../migrate/health.js';

export async function monitor(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.config();
  const here = await openContainer(ctx, config);
  const health = await containerHealth(here, ctx.probe);
  switch (health.state) {
    case 'running':
      if (!ctx.probe && (config.autoset_utilization_memory || config.autoset_utilization_cpu)) {
        const { autosetUtilization } = await import('../utilization.js');
        await autosetUtilization(ctx.environment.resourceInstance, here);
      }
      return OCF.SUCCESS;
    case 'stopped': return OCF.NOT_RUNNING;
    case 'failed': throw new OcfError(OCF.ERR_GENERIC, health.reason);
  }
}
