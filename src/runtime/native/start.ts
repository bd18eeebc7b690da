/** Start: launch the init, wire the network, let the admin's command run, and confirm it stays up. */
import type { Config } from '../../settings/params.js';
import { launchInit } from './launch.js';
import { plugNetwork, removeHostInterface } from './network.js';
import { identityOf, isAlive, namespaceOf } from '../../util/proc.js';
import { hostInterfaceName } from '../naming.js';
import { logger } from '../../util/log.js';

export interface Started {
  pid: number;
  startTime: number;
  pidNamespace: string;
}

/** How long the command must stay alive before start reports success (catches commands that fail at once). */
const SETTLE_MS = 300;

export async function startContainer(config: Config): Promise<Started> {
  if (!config.command) throw new Error('command is not set');
  const launched = await launchInit(config.name, config.command);
  const id = identityOf(launched.initPid);
  const pidNamespace = namespaceOf(launched.initPid, 'pid');
  try {
    if (!id || !pidNamespace) throw new Error('the container init exited before it could be set up');
    await plugNetwork(config, launched.initPid);
  } catch (err) {
    launched.abort();
    await removeHostInterface(config.bridge ? hostInterfaceName(config.name) : undefined);
    throw err;
  }
  launched.release();
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  if (!isAlive(id)) throw new Error(`the container's command exited within ${SETTLE_MS} ms of starting`);
  logger.info(`container ${config.name} started: init pid ${id.pid}`);
  return { pid: id.pid, startTime: id.startTime, pidNamespace };
}
