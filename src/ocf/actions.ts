/** The agent's actions with their advised timeouts: the dispatcher, the metadata and the man page share it. */
export interface ActionSpec {
  readonly name: string;
  readonly timeoutS: number;
  readonly intervalS?: number;
  readonly depth?: number;
  readonly summary: string;
  /** VirtualDomain's advised timeout for the same action (resource-agents' heartbeat/VirtualDomain), if it has one. */
  readonly virtualDomainS?: number;
  /** Why this timeout, against VirtualDomain's: shown in the man page beside it. */
  readonly timeoutWhy: string;
}

export const ACTIONS: readonly ActionSpec[] = [
  {
    name: 'start', timeoutS: 120, virtualDomainS: 90,
    summary: 'Starts the container, or resumes it from the checkpoint of an unfinished migration. Returns once the container is up (and monitor_cmd passes, if set).',
    timeoutWhy: 'More than VirtualDomain\'s 90s: besides starting, a start may resume a whole checkpoint (reading all of the container\'s memory from state_dir), promote and mount DRBD, or import a podman checkpoint. Raise it by the time reading the container\'s memory takes (RSS / read bandwidth of state_dir).',
  },
  {
    name: 'stop', timeoutS: 60, virtualDomainS: 90,
    summary: 'Stops the container: SIGTERM to every process, SIGKILL after stop_timeout; also cleans up after a migration away from this node.',
    timeoutWhy: 'Less than VirtualDomain\'s 90s, which waits for a guest OS to shut down: a container gets stop_timeout (10s) between SIGTERM and SIGKILL, and the agent keeps 10 % of the timeout (at least 2s) for itself. Raise it with stop_timeout (stop_timeout + 10s at least), with checkpoint_on_stop (plus RSS / 64 MiB/s), and for a lazy migration\'s source, which waits here until the target has every page.',
  },
  {
    name: 'monitor', timeoutS: 20, intervalS: 10, depth: 0, virtualDomainS: 30,
    summary: 'Checks that the container\'s init is alive (same PID and start time as when it started) and runs monitor_cmd if set.',
    timeoutWhy: 'VirtualDomain advises 30s for virsh round trips; this monitor reads /proc and runs no runtime command (about 40 ms), so 20s covers a loaded node; add what monitor_cmd takes. Interval 10s as VirtualDomain\'s.',
  },
  {
    name: 'migrate_to', timeoutS: 300, virtualDomainS: 120,
    summary: 'On the source node: checkpoints the running container into state_dir for the target node.',
    timeoutWhy: 'More than VirtualDomain\'s 120s, because here migrate_to writes all of the container\'s memory (pre-copy rounds, the final dump, with storage=none the transfer to the target\'s helper) where virsh streams it to a running peer. The agent gives up 10 % of the timeout (2 to 30s) plus 3s before it, and rolls back: size it as RSS / write bandwidth of state_dir (or of the migration network) times the pre-copy rounds, plus 40s.',
  },
  {
    name: 'migrate_from', timeoutS: 300, virtualDomainS: 60,
    summary: 'On the target node: restores the container from the source node\'s checkpoint and announces its address.',
    timeoutWhy: 'More than VirtualDomain\'s 60s, which only waits for a domain that has already arrived: here migrate_from reads the whole checkpoint back (CRIU restore), takes DRBD over and claims the checkpoint. Size it as RSS / read bandwidth of state_dir plus 40s, like migrate_to.',
  },
  {
    name: 'validate-all', timeoutS: 30, virtualDomainS: 5,
    summary: 'Checks the parameters; with OCF_CHECK_LEVEL=10 also whether this node can run the container and receive it by its migration_type: programs, CRIU and the kernel features the type needs (a missing one is an error only with migration_type_strict=true, else a logged warning naming the fallback), state_dir, bridge, the DRBD resource, memory.',
    timeoutWhy: 'More than VirtualDomain\'s 5s: at OCF_CHECK_LEVEL=10 it runs criu check and CRIU\'s feature probes, which take seconds.',
  },
  {
    name: 'meta-data', timeoutS: 5, virtualDomainS: 5,
    summary: 'Prints the agent\'s metadata.', timeoutWhy: 'As VirtualDomain\'s.',
  },
];

export const ACTION_NAMES = [...ACTIONS.map((a) => a.name), 'usage'] as const;
