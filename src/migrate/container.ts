/** One container as this node's engine sees it, for the actions that need no state_dir (start, stop, monitor). */
import type { Config } from '../settings/params.js';
import type { ContainerDriver } from '../runtime/driver.js';
import { loadDriver } from '../runtime/load-driver.js';
import type { Deadline } from '../util/deadline.js';

export interface ContainerHere {
  config: Config;
  /** This node's cluster name, found out only when asked (a monitor without state_dir never needs it). */
  localNode(): Promise<string>;
  driver: ContainerDriver;
  deadline: Deadline;
}

export async function containerHere(config: Config, localNode: () => Promise<string>, deadline: Deadline): Promise<ContainerHere> {
  let name: Promise<string> | undefined;
  return { config, localNode: () => (name ??= localNode()), driver: await loadDriver(config), deadline };
}
