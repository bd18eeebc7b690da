/**
 * The LXC driver: LXC runs the container (lxc-start, lxc-stop; its root filesystem, limits and network are in its
 * config), Ferry's own CRIU dump checkpoints it with the options LXC's container needs (criu-options.ts), and
 * lxc-checkpoint -r restores it on the target, so that LXC's monitor owns it there as on the source. Its identity
 * is recorded like a native container's (init pid, start time, PID namespace), so monitor asks LXC nothing.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Config } from '../../settings/params.js';
import { lxcConfigPath } from '../../settings/parts/lxc.js';
import type { ContainerDriver, ContainerStatus, RestoreWiring, RuntimeRestored, RuntimeRestoreRequest } from '../driver.js';
import { readLocalRecord, removeLocalRecord, removeRestoreIntent, writeLocalRecord } from '../local-record.js';
import { identityOf, isAlive, namespaceOf } from '../../util/proc.js';
import { failed, misconfigured, notInstalled } from '../../util/errors.js';
import { waitUntil } from '../../util/deadline.js';
import { readLxcConfig, liveMigrationProblems, mountEntries, firstNetwork, rootfsDirectory, type LxcConfig } from './config-file.js';
import { lxcDumpOptions } from './criu-options.js';
import { lxcInfoPid, lxcLogTail, lxcPathOf, lxcTool, type LxcContainer } from './lxc-tools.js';
import { lxcInitPid } from './monitor-process.js';

const LXC_PROGRAMS = ['lxc-start', 'lxc-stop', 'lxc-info', 'lxc-wait', 'lxc-checkpoint', 'nsenter'];

const FILES = {
  read(path: string): string | undefined {
    try {
      return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  },
  list(dir: string): string[] | undefined {
    try {
      return readdirSync(dir);
    } catch {
      return undefined;
    }
  },
};

export class LxcDriver implements ContainerDriver {
  readonly limits = {
    precopy: 'driver=lxc: pre-copy rounds of an LXC container are not supported by Ferry yet',
    lazy: 'driver=lxc: lxc-checkpoint -r, which must restore an LXC container for LXC to own it, cannot take its pages lazily',
  };

  /** LXC gives the container its own mount namespace with its PID namespace's /proc: dumps need not wait for each other */
  readonly criuLock = 'none' as const;

  private readonly lxc: LxcContainer;
  private readonly configPath: string;

  constructor(private readonly config: Config) {
    this.configPath = lxcConfigPath(config);
    this.lxc = { name: config.name, lxcPath: lxcPathOf(this.configPath), criuBinary: config.criu_binary };
  }

  private lxcConfig(): LxcConfig {
    try {
      return readLxcConfig(this.configPath, FILES);
    } catch (err) {
      throw notInstalled(`the LXC configuration of ${this.config.name} cannot be read on this node: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  status(): ContainerStatus {
    const record = readLocalRecord(this.config.name) ?? this.recordFromLxc();
    if (!record) return { state: 'stopped' };
    if (isAlive(record)) return { state: 'running', pid: record.pid, detail: `init pid ${record.pid} (${record.origin} ${record.since})` };
    return { state: 'dead', detail: `its init (pid ${record.pid}) has exited` };
  }

  /** A container LXC runs that Ferry has no record of (a restore whose action was killed): recorded now. */
  private recordFromLxc() {
    const pid = lxcInitPid(this.lxc.lxcPath, this.config.name);
    return pid === undefined ? undefined : this.record(pid, 'restore');
  }

  private record(pid: number, origin: 'start' | 'restore') {
    const id = identityOf(pid);
    const pidNamespace = namespaceOf(pid, 'pid');
    if (!id || !pidNamespace) return undefined;
    const record = { name: this.config.name, pid, startTime: id.startTime, pidNamespace, origin, since: new Date().toISOString(), hostInterface: undefined, stateDir: this.config.state_dir };
    writeLocalRecord(record);
    return record;
  }

  /** The init LXC reports, recorded by identity; fails when LXC says it runs none. */
  private async adoptFromLxc(origin: 'start' | 'restore'): Promise<number> {
    const pid = await lxcInfoPid(this.lxc);
    if (pid === undefined || !this.record(pid, origin)) {
      throw new Error(`LXC reports no running init for ${this.config.name}${lxcLogTail(this.config.name) ? `: ${lxcLogTail(this.config.name)}` : ''}`);
    }
    return pid;
  }

  movedFiles(): string {
    const rootfs = rootfsDirectory(this.lxcConfig());
    if ('problem' in rootfs) throw misconfigured(`storage=none moves the root filesystem with the container, but ${rootfs.problem} (${this.configPath})`);
    return rootfs.path;
  }

  async start(): Promise<void> {
    if (this.config.storage === 'none') {
      const root = this.movedFiles();
      if (!existsSync(root)) {
        throw notInstalled(`the root filesystem ${root} of ${this.config.name} is not on this node: with storage=none it is on the node `
          + 'where the container last ran (a migration moves it, a fresh start does not)');
      }
    }
    const r = await lxcTool(this.lxc, 'lxc-start', ['-d'], { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(`lxc-start failed: ${lxcLogTail(this.config.name) || r.stderr.trim() || `exit ${r.exitCode}`}`);
    const running = await lxcTool(this.lxc, 'lxc-wait', ['-s', 'RUNNING', '-t', '30'], { timeoutMs: 35_000 });
    if (running.exitCode !== 0) throw new Error(`${this.config.name} did not reach RUNNING: ${lxcLogTail(this.config.name) || running.stderr.trim()}`);
    await this.adoptFromLxc('start');
  }

  async stop(): Promise<void> {
    const stopS = String(this.config.stop_timeout);
    const r = await lxcTool(this.lxc, 'lxc-stop', ['-t', stopS], { timeoutMs: (this.config.stop_timeout + 10) * 1000 });
    if (r.exitCode !== 0 && lxcInitPid(this.lxc.lxcPath, this.config.name) !== undefined) {
      await lxcTool(this.lxc, 'lxc-stop', ['-k'], { timeoutMs: 15_000 });
    }
    // LXC's monitor exits once the container has: then nothing of it is left on this node
    await waitUntil(`${this.config.name}'s LXC monitor to exit after lxc-stop`, 10_000,
      () => (lxcInitPid(this.lxc.lxcPath, this.config.name) === undefined ? true : undefined), 100);
    this.forget();
  }

  runtimeConfig(): Record<string, readonly string[]> {
    return Object.fromEntries(this.lxcConfig().values);
  }

  address(): string | undefined {
    try {
      return firstNetwork(this.lxcConfig()).ipv4?.split('/')[0];
    } catch {
      return undefined;
    }
  }

  checkpointRoot(): number | undefined {
    const s = this.status();
    return s.state === 'running' ? s.pid : undefined;
  }

  async dumpOptions(pid: number): Promise<string[]> {
    let cgroups: string;
    try {
      cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      throw new Error(`the init of ${this.config.name} (pid ${pid}) is gone`);
    }
    return lxcDumpOptions(cgroups, mountEntries(this.lxcConfig()));
  }

  async restoreItself(r: RuntimeRestoreRequest): Promise<RuntimeRestored> {
    const restored = await lxcTool(this.lxc, 'lxc-checkpoint', ['-r', '-D', r.imagesDir], { withCriu: true, ...(r.timeoutMs ? { timeoutMs: r.timeoutMs } : {}) });
    if (restored.exitCode !== 0) {
      const { criuLogTail, readLog } = await import('../../criu/criu.js');
      const why = criuLogTail(readLog(r.imagesDir, 'restore.log')) || lxcLogTail(this.config.name) || restored.stderr.trim();
      throw new Error(`lxc-checkpoint -r failed: ${why || `exit ${restored.exitCode}`}`);
    }
    return { pid: await this.adoptFromLxc('restore') };
  }

  async restoreWiring(): Promise<RestoreWiring> {
    return { externals: [] }; // lxc-checkpoint -r plugs the veth into lxc.net.0.link itself
  }

  async prepareRestore(): Promise<void> {
    const s = this.status();
    if (s.state === 'running') throw new Error(`${this.config.name} is already running here (${s.detail})`);
    this.forget();
  }

  async adoptRestored(pid: number): Promise<void> {
    if (!this.record(pid, 'restore')) throw failed(`the restored container (pid ${pid}) is not running`);
  }

  forget(): void {
    removeLocalRecord(this.config.name);
    removeRestoreIntent(this.config.name);
  }

  async healthCheck(): Promise<void> {
    if (!this.config.monitor_cmd) return;
    const s = this.status();
    if (s.state !== 'running') throw new Error('container is not running');
    const { runInside } = await import('../inside.js');
    await runInside(s.pid, this.config.monitor_cmd, { ownMounts: true });
  }

  async checkNode(): Promise<void> {
    const { requireNodeHas } = await import('../node-needs.js');
    await requireNodeHas(LXC_PROGRAMS, firstNetwork(this.lxcConfig()).link, { whose: 'driver=lxc needs LXC\'s tools,', bridgeIs: `lxc.net.0.link of ${this.configPath}` });
  }

  async migrationProblem(): Promise<void> {
    const config = this.lxcConfig();
    const problems = liveMigrationProblems(config);
    if (this.config.storage === 'none') {
      const rootfs = rootfsDirectory(config);
      if ('problem' in rootfs) problems.push(`storage=none moves the root filesystem with the container, but ${rootfs.problem}`);
    }
    if (problems.length) throw misconfigured(`${this.configPath} cannot move live: ${problems.join('; ')}`);
  }
}
