/**
 * stop: never returns 7; an invalid configuration could not have started anything, so the container is stopped by
 * its name with defaults for whatever does not parse (a container started under an earlier, valid configuration).
 */
import { OCF, type OcfCode } from '../exit-codes.js';
import { openContainer, type ActionContext } from '../context.js';
import { logger } from '../../util/log.js';
import { parseConfigForStop } from '../config.js';

export async function stop(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.configErrors.length ? parseConfigForStop(process.env) : ctx.config();
  if (ctx.configErrors.length) {
    logger.warning(`stop with an invalid configuration (${ctx.configErrors[0]?.message}): stopping by name with defaults`);
  }
  if (!config) return OCF.SUCCESS; // no usable name: nothing can have been started
  const { stopContainer } = await import('../../migrate/stop.js');
  await stopContainer(await openContainer(ctx, config));
  return OCF.SUCCESS;
}
