/**
 * The helper's half of the fast monitor: it judges every container registered for watching (through the engine's
 * ContainerWatch) and keeps one verdict file per container, which the agent's shell entry (ocf/ferry/container)
 * reads instead of starting Node.js. The protocol, and why it stays truthful, is written down in migrate/watch.ts.
 *
 * Each container is judged twice per monitor interval (at least every second, at most every ten); a verdict stays
 * valid for two such periods and a second, so a helper that stalls stops answering on its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, listQuietly, removeQuietly, writeTextAtomic } from '../util/files.js';
import { bootTicksNow, identityOf } from '../util/proc.js';
import { runDir } from '../util/run-dir.js';
import { logger } from '../util/log.js';
import type { ContainerWatch, WatchVerdict } from './keeper.js';

const TICKS_PER_SECOND = 100;
const MIN_REFRESH_MS = 1000;
const MAX_REFRESH_MS = 10_000;

export const verdictsDir = (): string => join(runDir(), 'verdicts');
/**
 * Present while the helper judges a container: created before it reads the registration, removed after. An action
 * removes the registration, then waits for this to go (migrate/watch.ts quiesceWatch), so that no judgement
 * (monitor_cmd run inside the container, a runtime's status query) overlaps what Pacemaker serializes.
 */
export const judgingFile = (key: string): string => join(verdictsDir(), `.judging.${key}`);
/** The keeper's own identity (PID and start time), for the slow path to tell whether a helper keeps verdicts. */
export const keeperFile = (): string => join(verdictsDir(), '.keeper');

export function refreshMs(intervalMs: number): number {
  return Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, Math.round(intervalMs / 2)));
}

export interface Writer { pid: number; startTime: number }

/** The verdict line (format in migrate/watch.ts), written at `nowTicks` since boot. */
export function formatVerdict(writer: Writer, v: WatchVerdict, nowTicks: number): string {
  const validTicks = Math.ceil(((2 * refreshMs(v.intervalMs) + 1000) * TICKS_PER_SECOND) / 1000);
  return ['ferry-verdict-1', writer.pid, writer.startTime, nowTicks, validTicks, v.generation, v.intervalMs,
    v.pid ?? 0, v.startTime ?? 0, v.monitorRunning ? 1 : 0, v.probeRunning ? 1 : 0].join(' ') + '\n';
}

interface Tracked { changedAt: number; dueAt: number; busy: boolean; failing: boolean }

export interface VerdictKeeper { close(): Promise<void> }

export function keepVerdicts(watch: ContainerWatch, o: { tickMs?: number; concurrency?: number } = {}): VerdictKeeper {
  const me = identityOf(process.pid);
  if (!me) throw new Error('cannot read this process\'s own start time from /proc');
  ensurePrivateDir(verdictsDir());
  // verdicts of an earlier helper name a dead writer, which the shell entry refuses anyway
  for (const f of listQuietly(verdictsDir())) removeQuietly(join(verdictsDir(), f));
  writeTextAtomic(keeperFile(), `${me.pid} ${me.startTime}\n`);
  const tracked = new Map<string, Tracked>();
  const inFlight = new Set<Promise<void>>();
  const concurrency = o.concurrency ?? 4;

  const judgeOne = async (key: string, t: Tracked): Promise<void> => {
    let verdict: WatchVerdict | undefined;
    const marker = judgingFile(key);
    try {
      writeFileSync(marker, `${me.pid} ${me.startTime}\n`, { mode: 0o600 });
      verdict = await watch.judge(key);
      t.failing = false;
    } catch (err) {
      if (!t.failing) logger.warning(`helper: cannot judge ${key}; its monitors take the slower path: ${err instanceof Error ? err.message : String(err)}`);
      t.failing = true;
    } finally {
      removeQuietly(marker);
    }
    const path = join(verdictsDir(), key);
    // never a rejection: the helper serves migrations too, and an unhandled one would end it
    try {
      if (!verdict || verdict.stopped) {
        removeQuietly(path);
        if (verdict) watch.release(key, verdict.generation);
        t.dueAt = Date.now() + MIN_REFRESH_MS;
        return;
      }
      const now = bootTicksNow(TICKS_PER_SECOND);
      if (now === undefined) { removeQuietly(path); return; }
      writeTextAtomic(path, formatVerdict(me, verdict, now));
      t.dueAt = Date.now() + refreshMs(verdict.intervalMs);
    } catch (err) {
      removeQuietly(path);
      t.dueAt = Date.now() + MIN_REFRESH_MS;
      if (!t.failing) logger.warning(`helper: cannot keep the verdict of ${key}: ${err instanceof Error ? err.message : String(err)}`);
      t.failing = true;
    }
  };

  // judgements start as soon as one ends, not only on the next tick: a hundred containers judged twice every
  // 10 s need 20 a second, more than a few per tick would give
  const startDue = () => {
    const now = Date.now();
    for (const [key, t] of tracked) {
      if (inFlight.size >= concurrency) break;
      if (t.busy || t.dueAt > now) continue;
      t.busy = true;
      const p = judgeOne(key, t).catch(() => undefined).finally(() => { t.busy = false; inFlight.delete(p); guarded(startDue); });
      inFlight.add(p);
    }
  };

  const tick = () => {
    const now = Date.now();
    const registered = watch.registered();
    for (const key of tracked.keys()) {
      if (!registered.has(key)) { tracked.delete(key); removeQuietly(join(verdictsDir(), key)); }
    }
    for (const [key, changedAt] of registered) {
      const t = tracked.get(key);
      if (!t) tracked.set(key, { changedAt, dueAt: now, busy: false, failing: false });
      else if (t.changedAt !== changedAt) { t.changedAt = changedAt; t.dueAt = now; }
    }
    startDue();
  };
  const guarded = (round: () => void) => {
    try {
      round();
    } catch (err) {
      logger.warning(`helper: the verdict keeper's round failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const timer = setInterval(() => guarded(tick), o.tickMs ?? 250);
  guarded(tick);
  return {
    async close() {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      removeQuietly(keeperFile());
    },
  };
}
