/** What the engine needs from a container runtime: one interface, a driver behind it per runtime. */
import type { DumpStats } from '../criu/stats.js';
import type { CriuLock } from '../criu/criu.js';

export type ContainerStatus =
  | { state: 'running'; pid: number; detail: string }
  | { state: 'stopped' }
  /** `leftover`: something of the container still holds resources here (a half-restored tree) and needs a stop. */
  | { state: 'dead'; detail: string; leftover?: boolean };

/** How CRIU must treat the container's ties to the node on restore (re-plugging its veth into the bridge). */
export interface RestoreWiring {
  externals: string[];
}

/** Why this runtime's containers cannot take part in a migration step, where they cannot (undefined: they can). */
export interface RuntimeLimits {
  precopy?: string | undefined;
  lazy?: string | undefined;
}

/** The one file of a checkpoint a runtime makes itself (podman's export), beside or instead of CRIU's images. */
export const RUNTIME_ARCHIVE = 'runtime-checkpoint.tar';

/** A dump the runtime makes itself (podman's checkpoint --export), into imagesDir; the tree is gone afterwards. */
export interface RuntimeDumpRequest { imagesDir: string; networkLock: 'iptables' | 'nftables'; timeoutMs: number | undefined }
/** A restore the runtime makes itself (lxc-checkpoint -r, podman restore --import), which then owns the tree. */
export interface RuntimeRestoreRequest { imagesDir: string; timeoutMs: number | undefined }
export interface RuntimeRestored { pid: number; restoreTimeUs?: number | undefined; pagesRestored?: number | undefined }

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
  /** Whether this node has what the driver needs to run the container (programs, the bridge); throws not-installed. */
  checkNode(): Promise<void>;
  /**
   * Present when the runtime keeps a configuration of its own on each node (an LXC config): its effective values
   * here, which must be the same on the node that restores a checkpoint as on the node that made it.
   */
  runtimeConfig?(): Record<string, readonly string[]>;
  /**
   * Present when the runtime restores a checkpoint onto an image (podman): the image's ID on this node (undefined:
   * not here), which must be the same on the target, checked before freezing.
   */
  imageId?(): Promise<string | undefined>;
  /**
   * Present when the container's files can be on the node's own disk (an LXC root filesystem): with storage=none
   * the tree that moves with the container (the same path on every node); throws misconfigured when it cannot.
   */
  movedFiles?(): string;
  /** The container's IPv4/IPv6 address, announced (gratuitous ARP) after a restore; undefined without one. */
  address(): string | undefined;
  /** Present when the runtime's own configuration can keep a container from moving live; throws misconfigured. */
  migrationProblem?(): Promise<void>;
  /** The migration steps this runtime cannot take part in, and why. */
  readonly limits: RuntimeLimits;
  /**
   * Whether Ferry's own CRIU dumps of this runtime's containers take the node-wide CRIU lock: 'node' when they
   * share the node's mount namespace (native), 'none' when each has its own mount namespace and /proc (lxc).
   */
  readonly criuLock: CriuLock;
  /** Options Ferry's own CRIU dump of the tree rooted at `pid` needs for this runtime (cgroup roots, mounts). */
  dumpOptions(pid: number): Promise<string[]>;
  /**
   * Present when the runtime dumps its containers itself; then Ferry runs no CRIU dump of its own. Resolves with
   * CRIU's figures where the runtime reports them (podman's --print-stats), for the migration summary.
   */
  dumpItself?(request: RuntimeDumpRequest): Promise<DumpStats | undefined>;
  /**
   * Present when the runtime must restore its containers itself to own them afterwards (its monitor, its state);
   * then Ferry runs no CRIU restore, and the runtime's tree is adopted by identity as it reports it.
   */
  restoreItself?(request: RuntimeRestoreRequest): Promise<RuntimeRestored>;
}
