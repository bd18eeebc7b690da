/** What the engine works with for one container on this node. */
import type { Config } from '../settings/params.js';
import type { ContainerDriver } from '../runtime/driver.js';
import { StateStore } from '../storage/state-store.js';
import { RecordStore } from './record.js';
import { Criu } from '../criu/criu.js';
import type { Deadline } from '../util/deadline.js';

export interface EngineContext {
  config: Config;
  localNode: string;
  driver: ContainerDriver;
  store: StateStore;
  records: RecordStore;
  criu: Criu;
  deadline: Deadline;
}

export function engineContext(config: Config, localNode: string, driver: ContainerDriver, deadline: Deadline): EngineContext {
  if (!config.state_dir) throw new Error('state_dir is not set');
  const store = new StateStore(config.state_dir, config.name);
  return { config, localNode, driver, store, records: new RecordStore(store), criu: new Criu(config.criu_binary), deadline };
}

/** Time kept back from the deadline for rolling back after a failed CRIU run. */
export const ROLLBACK_RESERVE_MS = 3000;
