/** What the migration engine and the OCF actions need from a container runtime. */
import type { Config } from '../ocf/params.js';

export type ContainerStatus =
  | { state: 'running'; pid: number; detail: string }
  | { state: 'stopped' }
  | { state: 'dead'; detail: string };

/** How CRIU must treat the container's ties to the node on restore (re-plugging its veth into the bridge). */
export interface RestoreWiring {
  externals: string[];
}

export interface ContainerDriver {
  status(): ContainerStatus;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The PID of the tree's root for CRIU, or undefined when not running here. */
  checkpointRoot(): number | undefined;
  restoreWiring(): Promise<RestoreWiring>;
  /** Clears what a dead copy may have left on this node (records, its host interface) so a restore can proceed. */
  prepareRestore(): Promise<void>;
  /** Takes over a tree CRIU restored on this node: record its identity so monitor and stop can find it. */
  adoptRestored(pid: number): Promise<void>;
  /** Forgets the container on this node after it was checkpointed away (its processes are gone). */
  forget(): void;
  /** Runs the admin's health check inside the container, if configured; throws with the reason on failure. */
  healthCheck(): Promise<void>;
}

export async function loadDriver(config: Config): Promise<ContainerDriver> {
  switch (config.driver) {
    case 'native': {
      const { NativeDriver } = await import('./native/native-driver.js');
      return new NativeDriver(config);
    }
  }
}
