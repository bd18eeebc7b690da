/**
 * stop: nothing of the container may run on this node afterwards, including a tree left by an interrupted
 * restore. Never returns 7; an invalid configuration could not have started anything, so it is stopped.
 */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import type { ActionContext } from '../context.js';
import { loadDriver } from '../../runtime/driver.js';
import { logger } from '../../util/log.js';
import { parseConfigForStop } from '../config.js';
import { existsSync } from 'node:fs';
import { statusPath } from '../../criu/background-status.js';

export async function stop(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.configErrors.length ? parseConfigForStop(process.env) : ctx.config();
  if (ctx.configErrors.length) {
    logger.warning(`stop with an invalid configuration (${ctx.configErrors[0]?.message}): stopping by name with defaults`);
  }
  if (!config) return OCF.SUCCESS; // no usable name: nothing can have been started

  const driver = await loadDriver(config);
  try {
    await driver.stop();
  } catch (err) {
    throw new OcfError(OCF.ERR_GENERIC, `could not stop ${config.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (existsSync(statusPath(config.name, 'lazy-pages'))) {
    // the container is gone: nothing is left to fetch pages for
    const { stopBackground } = await import('../../migrate/lazy.js');
    const { forgetBackground } = await import('../../criu/background-status.js');
    await stopBackground(config.name, 'lazy-pages');
    forgetBackground(config.name, 'lazy-pages');
  }
  if (existsSync(statusPath(config.name, 'page-server'))) {
    const { finishPageServer } = await import('../../migrate/lazy-finish.js');
    await finishPageServer(config, ctx.deadline.reserve(1000));
  }
  if (config.state_dir) {
    const { releaseLocalClaims } = await import('../../migrate/cleanup.js');
    await releaseLocalClaims(config, await localNode(ctx));
  }
  if (config.storage === 'drbd') {
    const { storageFor } = await import('../../storage/lifecycle.js');
    try {
      await storageFor(config).detach();
    } catch (err) {
      throw new OcfError(OCF.ERR_GENERIC, `stopped ${config.name} but could not release DRBD ${config.drbd_resource ?? '?'}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return OCF.SUCCESS;
}

async function localNode(ctx: ActionContext): Promise<string> {
  const { localNodeName } = await import('../../util/node-name.js');
  return ctx.environment.onNode ?? localNodeName(process.env);
}
