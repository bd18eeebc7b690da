/** The agent's actions with their advised timeouts: the dispatcher, the metadata and the man page share it. */
export interface ActionSpec {
  readonly name: string;
  readonly timeoutS: number;
  readonly intervalS?: number;
  readonly depth?: number;
  readonly summary: string;
}

export const ACTIONS: readonly ActionSpec[] = [
  { name: 'start', timeoutS: 120, summary: 'Starts the container, or resumes it from the checkpoint of an unfinished migration. Returns once the container is up (and monitor_cmd passes, if set).' },
  { name: 'stop', timeoutS: 60, summary: 'Stops the container: SIGTERM to every process, SIGKILL after stop_timeout; also cleans up after a migration away from this node.' },
  { name: 'monitor', timeoutS: 20, intervalS: 10, depth: 0, summary: 'Checks that the container\'s init is alive (same PID and start time as when it started) and runs monitor_cmd if set.' },
  { name: 'migrate_to', timeoutS: 300, summary: 'On the source node: checkpoints the running container into state_dir for the target node.' },
  { name: 'migrate_from', timeoutS: 300, summary: 'On the target node: restores the container from the source node\'s checkpoint and announces its address.' },
  { name: 'validate-all', timeoutS: 30, summary: 'Checks the parameters; with OCF_CHECK_LEVEL=10 also whether this node can run the container and receive it by its migration_type: programs, CRIU and the kernel features the type needs (a missing one is an error only with migration_type_strict=true, else a logged warning naming the fallback), state_dir, bridge, the DRBD resource, memory.' },
  { name: 'meta-data', timeoutS: 5, summary: 'Prints the agent\'s metadata.' },
];

export const ACTION_NAMES = [...ACTIONS.map((a) => a.name), 'usage'] as const;
