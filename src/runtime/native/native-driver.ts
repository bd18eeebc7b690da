/** The native driver: Ferry itself runs the container as a process tree in its own namespaces. */
import type { Config } from '../../settings/params.js';
import type { ContainerDriver, ContainerStatus, RestoreWiring } from '../driver.js';
import {
  readLocalRecord, readRestoreIntent, removeLocalRecord, removeRestoreIntent, restoredRootPid, writeLocalRecord, type LocalRecord, type RestoreIntent,
} from '../local-record.js';
import { commandLineOf, identityOf, isAlive, isPidNamespaceInit, namespaceOf, startedAtMs } from '../../util/proc.js';
import { settleRestoredHostSide } from '../bridge.js';

/** What the native driver runs on a node: namespaces, the container's hostname, its network. */
const NATIVE_PROGRAMS = ['unshare', 'nsenter', 'setsid', 'ip', 'hostname'];

export class NativeDriver implements ContainerDriver {
  readonly limits = {};
  /** its tree shares the node's mount namespace: CRIU's parasite /proc would collide (criu.ts) */
  readonly criuLock = 'node' as const;

  constructor(private readonly config: Config) {}

  address(): string | undefined {
    return this.config.ip?.address;
  }

  /** The tree is all there is: namespaces Ferry made, the host filesystem, a veth CRIU re-creates. */
  async dumpOptions(): Promise<string[]> {
    return [];
  }

  status(): ContainerStatus {
    const record: (LocalRecord & { halfRestored?: boolean }) | undefined = readLocalRecord(this.config.name) ?? this.recordFromInterruptedRestore();
    if (!record) return { state: 'stopped' };
    if (isAlive(record) && record.halfRestored) {
      // not the container: a task CRIU forked for it and never finished (it holds the container's namespaces,
      // its address among them); failed even to a probe, so that Pacemaker stops it here
      return { state: 'dead', leftover: true, detail: `a restore interrupted here left a half-restored tree (pid ${record.pid}); stop removes it` };
    }
    if (isAlive(record)) return { state: 'running', pid: record.pid, detail: `init pid ${record.pid} (${record.origin} ${record.since})` };
    return { state: 'dead', detail: `its init (pid ${record.pid}) has exited` };
  }

  /**
   * A restore interrupted before its record was written (the agent was killed) may still have left a running
   * tree: CRIU's pidfile says which, or before CRIU got to write it, its action script did. Adopting it here
   * keeps probes truthful.
   */
  private recordFromInterruptedRestore(): (LocalRecord & { halfRestored?: boolean }) | undefined {
    const intent = readRestoreIntent(this.config.name);
    const pid = intent ? restoredRootPid(intent) : undefined;
    if (!intent || pid === undefined) return undefined;
    const id = identityOf(pid);
    const pidNamespace = id ? namespaceOf(pid, 'pid') : undefined;
    if (!id || !pidNamespace) return undefined;
    // a stale pidfile may name a reused PID: only a namespace init born after the restore began is ours (told by
    // the boot clock both are counted in; the wall clock only for an intent written before it was recorded)
    if (!isPidNamespaceInit(pid) || !bornAfter(id.startTime, intent)) return undefined;
    // CRIU killed before it made the task the container's: the task still runs CRIU, whose command line names the
    // pidfile of this very restore
    const halfRestored = commandLineOf(pid).includes(intent.pidFile);
    return { ...this.recordFor(id.pid, id.startTime, pidNamespace, 'restore', undefined), ...(halfRestored ? { halfRestored } : {}) };
  }

  private recordFor(pid: number, startTime: number, pidNamespace: string, origin: LocalRecord['origin'],
    hostInterface: string | undefined): LocalRecord {
    return { name: this.config.name, pid, startTime, pidNamespace, origin, since: new Date().toISOString(), hostInterface, stateDir: this.config.state_dir };
  }

  /** Loaded on demand: node:crypto is more than a monitor should pay for. */
  private async hostInterface(): Promise<string | undefined> {
    if (!this.config.bridge) return undefined;
    const { hostInterfaceName } = await import('../naming.js');
    return hostInterfaceName(this.config.name);
  }

  async start(): Promise<void> {
    const { startContainer } = await import('./start.js');
    const started = await startContainer(this.config);
    writeLocalRecord(this.recordFor(started.pid, started.startTime, started.pidNamespace, 'start', await this.hostInterface()));
  }

  async stop(): Promise<void> {
    const record = readLocalRecord(this.config.name) ?? this.recordFromInterruptedRestore();
    if (record) {
      const { terminateTree } = await import('./terminate.js');
      await terminateTree(record, record.pidNamespace, this.config.stop_timeout * 1000);
      const { removeHostInterface } = await import('./network.js');
      await removeHostInterface(record.hostInterface ?? await this.hostInterface());
    }
    removeLocalRecord(this.config.name);
    removeRestoreIntent(this.config.name);
  }

  checkpointRoot(): number | undefined {
    const status = this.status();
    return status.state === 'running' ? status.pid : undefined;
  }

  async restoreWiring(): Promise<RestoreWiring> {
    const hostSide = await this.hostInterface();
    return { externals: hostSide ? [`veth[eth0]:${hostSide}@${this.config.bridge}`] : [] };
  }

  async prepareRestore(): Promise<void> {
    const status = this.status();
    if (status.state === 'running') throw new Error(`${this.config.name} is already running here (${status.detail})`);
    // what an interrupted restore left (a half-restored tree holds the container's namespaces) goes first
    if (status.state === 'dead') await this.stop();
    this.forget();
    const { removeHostInterface } = await import('./network.js');
    await removeHostInterface(await this.hostInterface()); // a stale one would make CRIU's veth creation fail
  }

  async adoptRestored(pid: number): Promise<void> {
    const id = identityOf(pid);
    const pidNamespace = namespaceOf(pid, 'pid');
    if (!id || !pidNamespace) throw new Error(`the restored container (pid ${pid}) is not running`);
    const hostSide = await this.hostInterface();
    writeLocalRecord(this.recordFor(pid, id.startTime, pidNamespace, 'restore', hostSide));
    removeRestoreIntent(this.config.name);
    await settleRestoredHostSide(hostSide);
  }

  forget(): void {
    removeLocalRecord(this.config.name);
    removeRestoreIntent(this.config.name);
  }

  async checkNode(): Promise<void> {
    const { requireNodeHas } = await import('../node-needs.js');
    await requireNodeHas(NATIVE_PROGRAMS, this.config.bridge);
  }

  async healthCheck(): Promise<void> {
    if (!this.config.monitor_cmd) return;
    const status = this.status();
    if (status.state !== 'running') throw new Error('container is not running');
    const { runInside } = await import('../inside.js');
    await runInside(status.pid, this.config.monitor_cmd);
  }
}

/** Whether a process started at `startTime` (ticks since boot) was born after the restore began, with a second's slack. */
export function bornAfter(startTime: number, intent: Pick<RestoreIntent, 'since' | 'bootTicks'>, clockTicks = 100): boolean {
  if (intent.bootTicks !== undefined) return startTime + clockTicks >= intent.bootTicks;
  const born = startedAtMs(startTime, clockTicks);
  return born !== undefined && born + 1000 >= Date.parse(intent.since);
}
