/** The native driver: Ferry itself runs the container as a process tree in its own namespaces. */
import type { Config } from '../../ocf/params.js';
import type { ContainerDriver, ContainerStatus, RestoreWiring } from '../driver.js';
import {
  readLocalRecord, readRestoreIntent, removeLocalRecord, removeRestoreIntent, writeLocalRecord, type LocalRecord,
} from '../local-record.js';
import { identityOf, isAlive, isPidNamespaceInit, namespaceOf, startedAtMs } from '../../util/proc.js';
import { readFileSync } from 'node:fs';

export class NativeDriver implements ContainerDriver {
  constructor(private readonly config: Config) {}

  status(): ContainerStatus {
    const record = readLocalRecord(this.config.name) ?? this.recordFromInterruptedRestore();
    if (!record) return { state: 'stopped' };
    if (isAlive(record)) return { state: 'running', pid: record.pid, detail: `init pid ${record.pid} (${record.origin} ${record.since})` };
    return { state: 'dead', detail: `its init (pid ${record.pid}) has exited` };
  }

  /**
   * A restore interrupted before its record was written (the agent was killed) may still have left a running
   * tree: CRIU's pidfile says which. Adopting it here keeps probes truthful.
   */
  private recordFromInterruptedRestore(): LocalRecord | undefined {
    const intent = readRestoreIntent(this.config.name);
    if (!intent) return undefined;
    let pid: number;
    try {
      pid = Number(readFileSync(intent.pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    const id = Number.isInteger(pid) && pid > 0 ? identityOf(pid) : undefined;
    const pidNamespace = id ? namespaceOf(pid, 'pid') : undefined;
    if (!id || !pidNamespace) return undefined;
    // a stale pidfile may name a reused PID: only a namespace init born after the restore began is ours
    const born = startedAtMs(id.startTime);
    const intentAt = Date.parse(intent.since);
    if (!isPidNamespaceInit(pid) || born === undefined || born + 1000 < intentAt) return undefined;
    return this.recordFor(id.pid, id.startTime, pidNamespace, 'restore', undefined);
  }

  private recordFor(pid: number, startTime: number, pidNamespace: string, origin: LocalRecord['origin'],
    hostInterface: string | undefined): LocalRecord {
    return { name: this.config.name, pid, startTime, pidNamespace, origin, since: new Date().toISOString(), hostInterface, stateDir: this.config.state_dir };
  }

  /** Loaded on demand: node:crypto is more than a monitor should pay for. */
  private async hostInterface(): Promise<string | undefined> {
    if (!this.config.bridge) return undefined;
    const { hostInterfaceName } = await import('./naming.js');
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
    this.forget();
    const { removeHostInterface } = await import('./network.js');
    await removeHostInterface(await this.hostInterface()); // a stale one would make CRIU's veth creation fail
  }

  async adoptRestored(pid: number): Promise<void> {
    const id = identityOf(pid);
    const pidNamespace = namespaceOf(pid, 'pid');
    if (!id || !pidNamespace) throw new Error(`the restored container (pid ${pid}) is not running`);
    writeLocalRecord(this.recordFor(pid, id.startTime, pidNamespace, 'restore', await this.hostInterface()));
    removeRestoreIntent(this.config.name);
  }

  forget(): void {
    removeLocalRecord(this.config.name);
    removeRestoreIntent(this.config.name);
  }

  async healthCheck(): Promise<void> {
    if (!this.config.monitor_cmd) return;
    const status = this.status();
    if (status.state !== 'running') throw new Error('container is not running');
    const { runInside } = await import('./inside.js');
    await runInside(status.pid, this.config.monitor_cmd);
  }
}
