/**
 * driver=podman: podman runs the container from its image under runc, in a network namespace Ferry makes, and
 * checkpoints and restores it itself (migration.ts). Like every driver, its identity on this node is the node-local
 * record (init PID + start time + PID namespace, runtime/local-record.ts): monitor proves it from /proc without
 * running podman; podman is asked only to start, stop, migrate, and after a restore that an agent's death interrupted.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../settings/params.js';
import type { ContainerDriver, ContainerStatus, RestoreWiring, RuntimeDumpRequest, RuntimeRestoreRequest, RuntimeRestored } from '../driver.js';
import {
  readLocalRecord, readRestoreIntent, removeLocalRecord, removeRestoreIntent, writeLocalRecord, type LocalRecord,
} from '../local-record.js';
import type { DumpStats } from '../../criu/stats.js';
import { identityOf, isAlive, namespaceOf } from '../../util/proc.js';
import { notInstalled } from '../../util/errors.js';
import { logger } from '../../util/log.js';

/** What the driver runs on a node (runc checkpoints for podman; conmon supervises the container). */
const PODMAN_PROGRAMS = ['podman', 'runc', 'conmon', 'ip', 'nsenter', 'nft'];
/** How long the container must stay up before start reports success (catches commands that fail at once). */
const SETTLE_MS = 300;

export const PODMAN_LIMITS = {
  precopy: 'podman checkpoints its containers itself (container checkpoint --export), in one freeze: Ferry cannot run pre-copy rounds on them',
  lazy: 'podman restores from the exported archive with every page in it (container restore --import): no lazy pages',
};

export class PodmanDriver implements ContainerDriver {
  readonly limits = PODMAN_LIMITS;
  /** Ferry runs no CRIU of its own for podman (dumpItself, restoreItself); podman's containers have their own mounts */
  readonly criuLock = 'none' as const;

  constructor(private readonly config: Config) {}

  /** Ferry runs no CRIU dump of its own for podman (dumpItself). */
  async dumpOptions(): Promise<string[]> {
    return [];
  }

  status(): ContainerStatus {
    const record = readLocalRecord(this.config.name);
    if (!record) {
      return readRestoreIntent(this.config.name)
        ? { state: 'dead', detail: 'a restore was interrupted here: stop clears what podman may have left' }
        : { state: 'stopped' };
    }
    if (isAlive(record)) return { state: 'running', pid: record.pid, detail: `init pid ${record.pid} (${record.origin} ${record.since})` };
    return { state: 'dead', detail: `its init (pid ${record.pid}) has exited` };
  }

  /** Records the init podman reports for the container, by identity. */
  private async record(origin: LocalRecord['origin'], pid?: number): Promise<LocalRecord> {
    const { inspectContainer } = await import('./podman.js');
    const initPid = pid ?? (await inspectContainer(this.config.criu_binary, this.config.name))?.pid ?? 0;
    const id = initPid > 0 ? identityOf(initPid) : undefined;
    const pidNamespace = id ? namespaceOf(id.pid, 'pid') : undefined;
    if (!id || !pidNamespace) throw new Error(`podman's container ${this.config.name} is not running (init pid ${initPid || 'none'})`);
    const { hostSide } = await import('./netns.js');
    const record: LocalRecord = {
      name: this.config.name, pid: id.pid, startTime: id.startTime, pidNamespace, origin, since: new Date().toISOString(),
      hostInterface: hostSide(this.config), stateDir: this.config.state_dir,
    };
    writeLocalRecord(record);
    removeRestoreIntent(this.config.name);
    return record;
  }

  async start(): Promise<void> {
    const { podman, removeContainer, writeCriuConfig } = await import('./podman.js');
    const { makeNetns, removeNetns } = await import('./netns.js');
    const { containerUlimits, parseHardLimits, runArgs } = await import('./args.js');
    const { criuConfigPath } = await import('./podman.js');
    await removeContainer(this.config.criu_binary, this.config.name); // an exited one of an earlier run keeps the name
    writeCriuConfig(undefined);
    await makeNetns(this.config, false);
    const ulimits = containerUlimits(parseHardLimits(readFileSync('/proc/self/limits', 'utf8')));
    try {
      const r = await podman(this.config.criu_binary, runArgs(this.config, ulimits, criuConfigPath()), { allowFailure: true, timeoutMs: 60_000 });
      if (r.exitCode !== 0) throw new Error(`podman run failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      const record = await this.record('start');
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      if (!isAlive(record)) throw new Error(`the container's command exited within ${SETTLE_MS} ms of starting`);
      logger.info(`container ${this.config.name} started by podman: init pid ${record.pid}`);
    } catch (err) {
      await removeContainer(this.config.criu_binary, this.config.name).catch(() => undefined);
      await removeNetns(this.config);
      removeLocalRecord(this.config.name);
      throw err;
    }
  }

  /** podman stop (SIGTERM, SIGKILL after stop_timeout), podman rm, the network namespace: nothing is left. */
  async stop(): Promise<void> {
    const { stopContainer } = await import('./stop.js');
    await stopContainer(this.config, readLocalRecord(this.config.name));
    this.forget();
  }

  address(): string | undefined {
    return this.config.ip?.address;
  }

  checkpointRoot(): number | undefined {
    const status = this.status();
    return status.state === 'running' ? status.pid : undefined;
  }

  /** podman re-creates the container's ties itself; the network namespace is Ferry's (restoreItself). */
  async restoreWiring(): Promise<RestoreWiring> {
    return { externals: [] };
  }

  async prepareRestore(): Promise<void> {
    const status = this.status();
    if (status.state === 'running') throw new Error(`${this.config.name} is already running here (${status.detail})`);
    const { removeContainer } = await import('./podman.js');
    const { removeNetns } = await import('./netns.js');
    await removeContainer(this.config.criu_binary, this.config.name); // restore --import refuses a name in use
    await removeNetns(this.config);
    this.forget();
  }

  async adoptRestored(pid: number): Promise<void> {
    await this.record('restore', pid);
  }

  forget(): void {
    removeLocalRecord(this.config.name);
    removeRestoreIntent(this.config.name);
  }

  async checkNode(): Promise<void> {
    const { requireNodeHas } = await import('../node-needs.js');
    await requireNodeHas(PODMAN_PROGRAMS, this.config.bridge);
    const id = await this.imageId();
    if (!id) throw notInstalled(`image ${this.config.image ?? '?'} is not on this node (podman image inspect finds none): import or pull it on every node, with the same image ID`);
  }

  /** The image's ID on this node (undefined: this node lacks it), which must be the same on the target. */
  async imageId(): Promise<string | undefined> {
    const { imageId } = await import('./podman.js');
    return this.config.image ? imageId(this.config.criu_binary, this.config.image) : undefined;
  }

  async healthCheck(): Promise<void> {
    if (!this.config.monitor_cmd) return;
    const status = this.status();
    if (status.state !== 'running') throw new Error('container is not running');
    const { runInside } = await import('../inside.js');
    await runInside(status.pid, this.config.monitor_cmd, { ownMounts: true });
  }

  async dumpItself(request: RuntimeDumpRequest): Promise<DumpStats> {
    const { dumpContainer } = await import('./migration.js');
    return dumpContainer(this.config, request);
  }

  async restoreItself(request: RuntimeRestoreRequest): Promise<RuntimeRestored> {
    const { restoreContainer } = await import('./migration.js');
    const restored = await restoreContainer(this.config, request);
    await this.record('restore', restored.pid);
    return restored;
  }
}
