/**
 * Watched containers: what lets a monitor answer without starting Node.js. The slow path (a monitor or start that
 * found the container running) registers it under its watch key (Pacemaker's resource instance); the per-node
 * helper judges every registration with containerHealth(), the one definition of "running", and keeps a verdict
 * file the agent's shell entry reads (ocf/ferry/container).
 *
 * The shell entry answers "running" from a verdict only, and only while the helper that wrote it is alive, the
 * verdict is younger than its validity and the container's init is the same process right now (PID and start
 * time, read from /proc at the moment of the monitor). Everything else (no verdict, a stale one, a stopped or
 * failed container, the helper down) takes the slow path, which answers and logs as before. So a failure the
 * helper sees (a lazy restore whose pages stopped coming, monitor_cmd failing, the DRBD device lost) reaches
 * Pacemaker at most one refresh later than the slow path would have seen it, and a dead or replaced init at once.
 *
 * Registration file (watch/KEY): line 1 its generation, line 2 the JSON below. Verdict file (verdicts/KEY), one
 * line: `ferry-verdict-1 HELPER_PID HELPER_START WRITTEN_TICKS VALID_TICKS GENERATION INTERVAL_MS PID START MONITOR
 * PROBE`, ticks in 1/100 s since boot (as /proc/PID/stat counts), MONITOR and PROBE 1 when that kind of monitor
 * finds the container running. A recurring monitor whose interval is not the registration's takes the slow path,
 * which registers its interval (monitor_cmd runs at that pace, and verdicts last accordingly).
 */
import { randomHex } from '../util/lazy-crypto.js';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../settings/params.js';
import { ensurePrivateDir, listQuietly, removeQuietly, writeTextAtomic } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { identityOf, isAlive } from '../util/proc.js';
import { logger } from '../util/log.js';
import { judgingFile, keeperFile } from '../helper/verdicts.js';
import { Deadline } from '../util/deadline.js';
import type { ContainerDriver } from '../runtime/driver.js';
import type { ContainerHere } from './container.js';
import { loadDriver } from '../runtime/load-driver.js';
import { containerHealth } from './health.js';
import type { ContainerWatch, WatchVerdict } from '../helper/keeper.js';

export interface Watch {
  key: string;
  config: Config;
  /** The recurring monitor's interval: monitor_cmd runs no more often than this. */
  intervalMs: number;
}

export interface Registration extends Watch { generation: string }

export const watchDir = (): string => join(runDir(), 'watch');
export const verdictDir = (): string => join(runDir(), 'verdicts');

/** What the shell entry accepts as a watch key (Pacemaker ids, clone instances with their ":N"). */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;
export const isWatchKey = (key: string): boolean => KEY.test(key);

/** An interval Pacemaker did not give (start, a probe) is taken as its usual 10 s. */
const DEFAULT_INTERVAL_MS = 10_000;

export function readRegistration(key: string): Registration | undefined {
  try {
    const [generation, json] = readFileSync(join(watchDir(), key), 'utf8').split('\n');
    const body = JSON.parse(json ?? '') as Watch;
    return generation ? { ...body, key, generation } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Registers a container found running here. The same configuration keeps its generation (and the verdict the
 * helper keeps for it); another one starts a new generation, which no verdict of the old one matches.
 */
export function registerWatch(key: string | undefined, config: Config, intervalMs: number): void {
  if (key === undefined || !isWatchKey(key)) return;
  const known = readRegistration(key);
  const watch: Watch = { key, config, intervalMs: intervalMs > 0 ? intervalMs : known?.intervalMs ?? DEFAULT_INTERVAL_MS };
  const body = JSON.stringify(watch);
  if (known && JSON.stringify({ key: known.key, config: known.config, intervalMs: known.intervalMs }) === body) return;
  ensurePrivateDir(watchDir());
  removeQuietly(join(verdictDir(), key));
  writeTextAtomic(join(watchDir(), key), `${randomHex(6)}\n${body}\n`);
}

/** The container stopped or left this node: no verdict may answer for it any more. */
export function unregisterWatch(key: string | undefined): void {
  if (key === undefined || !isWatchKey(key)) return;
  removeQuietly(join(verdictDir(), key));
  removeQuietly(join(watchDir(), key));
}

export function listWatchKeys(): string[] {
  return listQuietly(watchDir()).filter(isWatchKey);
}

function modifiedAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** When the registration last changed (ms), to re-read only what changed. */
export function registrationChangedAt(key: string): number | undefined {
  return modifiedAt(join(watchDir(), key));
}

/** A registration judged: what the helper writes down, but the interval, which is the registration's. */
export type Judgement = Omit<WatchVerdict, 'intervalMs'>;

interface Judged { driver: ContainerDriver; checkedAt: number; checkError: unknown }

/**
 * Judges registrations with the engine's own containerHealth(). A driver is kept per generation; its healthCheck
 * (monitor_cmd) runs at most once per the monitor's interval and its last result stands in between.
 */
export class WatchJudge {
  private readonly judged = new Map<string, Judged>();

  async judge(reg: Registration, timeoutMs = 10_000): Promise<Judgement> {
    const cacheKey = `${reg.key}/${reg.generation}`;
    let entry = this.judged.get(cacheKey);
    if (!entry) {
      this.forget(reg.key);
      entry = { driver: await loadDriver(reg.config), checkedAt: Number.NEGATIVE_INFINITY, checkError: undefined };
      this.judged.set(cacheKey, entry);
    }
    const cached = entry;
    const driver: ContainerDriver = Object.create(cached.driver) as ContainerDriver;
    driver.healthCheck = async () => {
      if (Date.now() - cached.checkedAt >= reg.intervalMs) {
        cached.checkedAt = Date.now();
        cached.checkError = await cached.driver.healthCheck().then(() => undefined, (err: unknown) => err ?? new Error('failed'));
      }
      if (cached.checkError !== undefined) throw cached.checkError;
    };
    const view: ContainerHere = {
      config: reg.config, driver, deadline: Deadline.in(timeoutMs),
      localNode: async () => { throw new Error('judging health needs no node name'); },
    };
    const monitor = await containerHealth(view, false);
    const probe = monitor.state === 'running' ? monitor : await containerHealth(view, true);
    const status = cached.driver.status();
    const identity = status.state === 'running' ? identityOf(status.pid) : undefined;
    return {
      generation: reg.generation,
      pid: identity?.pid, startTime: identity?.startTime,
      monitorRunning: monitor.state === 'running' && identity !== undefined,
      probeRunning: probe.state === 'running' && identity !== undefined,
      stopped: monitor.state === 'stopped' && probe.state === 'stopped',
    };
  }

  forget(key: string): void {
    for (const k of this.judged.keys()) if (k.startsWith(`${key}/`)) this.judged.delete(k);
  }
}

/**
 * How long a listing of the registrations stands while the directory's mtime stays the same: every registration
 * is written by a rename, which changes it, but two renames within one timestamp tick may leave it as it was.
 */
const RELIST_MS = 5000;

/**
 * The helper's view of the watched containers (helper/keeper.ts), judged by the engine. The helper asks several
 * times a second for a hundred containers or more, so the directory is listed again only when it changed, and a
 * registration is parsed again only when its file did. A registration read stale for a moment costs no truth:
 * its verdict names the old generation, which the shell entry does not accept.
 */
export function containerWatch(judge = new WatchJudge()): ContainerWatch {
  let listing: { dirChangedAt: number | undefined; listedAt: number; keys: Map<string, number> } | undefined;
  const parsed = new Map<string, { changedAt: number; reg: Registration }>();
  return {
    registered() {
      const dirChangedAt = modifiedAt(watchDir());
      if (!listing || listing.dirChangedAt !== dirChangedAt || Date.now() - listing.listedAt >= RELIST_MS) {
        listing = { dirChangedAt, listedAt: Date.now(), keys: new Map(listWatchKeys().map((k) => [k, registrationChangedAt(k) ?? 0])) };
        for (const key of parsed.keys()) if (!listing.keys.has(key)) parsed.delete(key);
      }
      return listing.keys;
    },
    async judge(key) {
      const changedAt = registrationChangedAt(key);
      let known = parsed.get(key);
      if (changedAt !== undefined && known?.changedAt !== changedAt) {
        const reg = readRegistration(key);
        known = reg ? { changedAt, reg } : undefined;
        if (known) parsed.set(key, known); else parsed.delete(key);
      }
      if (changedAt === undefined || !known) { parsed.delete(key); judge.forget(key); return undefined; }
      const { reg } = known;
      return { ...await judge.judge(reg), intervalMs: reg.intervalMs };
    },
    release(key, generation) {
      if (readRegistration(key)?.generation !== generation) return;
      judge.forget(key);
      unregisterWatch(key);
    },
  };
}

/** Whether the file names (as "PID START") a process alive now: the helper's keeper and judging markers. */
function namesLiveProcess(path: string): boolean {
  try {
    const [pid, startTime] = readFileSync(path, 'utf8').trim().split(' ').map(Number);
    return pid !== undefined && startTime !== undefined && isAlive({ pid, startTime });
  } catch {
    return false;
  }
}

/** True when a helper on this node keeps verdicts (its keeper file names a live process). */
export function verdictsKept(): boolean {
  return namesLiveProcess(keeperFile());
}

const slowPathNoted = (): string => join(watchDir(), '.slow-path-noted');

/**
 * The slow path found the container running: register it for the helper, and say once per boot (and again after
 * a helper was seen) when no helper keeps verdicts here, so every monitor of it starts Node.js.
 */
export function watchRunning(key: string | undefined, config: Config, intervalMs: number): void {
  registerWatch(key, config, intervalMs);
  if (key === undefined || !isWatchKey(key)) return;
  if (verdictsKept()) { removeQuietly(slowPathNoted()); return; }
  // looked for first: every monitor on this path would otherwise pay for a write that fails
  if (existsSync(slowPathNoted())) return;
  try {
    writeFileSync(slowPathNoted(), '', { flag: 'wx', mode: 0o600 });
    logger.notice(`no ferry helper keeps monitor verdicts on this node (ferry serve is not running): monitors start Node.js each time (the slower path)`);
  } catch { /* said already */ }
}

/** Whether the helper is judging `key` right now (its marker names a live helper). */
const beingJudged = (key: string): boolean => namesLiveProcess(judgingFile(key));

/**
 * Before an action changes the container (start, stop, a migration): no verdict answers for it any more, and a
 * judgement the helper began before the registration went has ended, so that nothing the helper runs for it
 * (monitor_cmd inside the container, which would make CRIU refuse a dump; a runtime's status query) overlaps the
 * action. Waits at most `maxWaitMs` (a judgement is bounded by its own timeouts), then goes on, logged.
 */
export async function quiesceWatch(key: string | undefined, maxWaitMs: number): Promise<void> {
  if (key === undefined || !isWatchKey(key)) return;
  unregisterWatch(key);
  const until = Date.now() + maxWaitMs;
  while (beingJudged(key)) {
    if (Date.now() >= until) {
      logger.warning(`the helper is still judging ${key} after ${maxWaitMs} ms; going on`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
