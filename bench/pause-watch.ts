/**
 * The workload's own longest pause, read from its counter file: server.py rewrites it (write + rename) every
 * 100 ms with the next value, so the file's mtime is the time of each tick as the workload made it. Polled every
 * 10 ms; between two ticks seen, the time elapsed less the time the ticks in between account for (their number
 * times the median interval between consecutive ones) is how long the workload stood still, whether or not
 * every tick was seen. A restart (a new instance) counts from the old process's last tick to the new one's
 * first. The file may move (a podman restore makes a new overlay): `path` is asked on every poll.
 */
import { readFileSync, statSync } from 'node:fs';

interface Tick { value: number; instance: string; atMs: number }

export interface PauseWatch {
  /** Forgets the intervals seen so far (the next measurement starts now). */
  reset(): void;
  /** The longest stall since the last reset, in ms (longest interval minus the median interval). */
  longestPauseMs(): number;
  /** The last tick seen. */
  last(): { value: number; instance: string } | undefined;
  /** Whether the workload was restarted since the last reset. */
  restarted(): boolean;
  stop(): void;
}

function readTick(path: string): Tick | undefined {
  try {
    const [value, instance] = readFileSync(path, 'utf8').trim().split(' ');
    const atMs = statSync(path).mtimeMs;
    return value && instance ? { value: Number(value), instance, atMs } : undefined;
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 100;

export function watchPauses(path: () => string | undefined): PauseWatch {
  let last: Tick | undefined;
  let intervals: number[] = [];
  let spans: { ms: number; ticks: number }[] = [];
  let restartMs = 0;
  let restart = false;
  const timer = setInterval(() => {
    const p = path();
    const t = p ? readTick(p) : undefined;
    if (!t || (last && t.value === last.value && t.instance === last.instance)) return;
    if (last && t.instance !== last.instance) {
      restart = true;
      restartMs = Math.max(restartMs, t.atMs - last.atMs);
    } else if (last && t.value > last.value) {
      if (t.value === last.value + 1) intervals.push(t.atMs - last.atMs);
      spans.push({ ms: t.atMs - last.atMs, ticks: t.value - last.value });
    }
    last = t;
  }, 10);
  return {
    reset() { intervals = []; spans = []; restartMs = 0; restart = false; },
    longestPauseMs: () => {
      const tick = median(intervals);
      return Math.max(0, Math.round(restartMs), ...spans.map((s) => Math.round(s.ms - s.ticks * tick)));
    },
    last: () => (last ? { value: last.value, instance: last.instance } : undefined),
    restarted: () => restart,
    stop: () => clearInterval(timer),
  };
}

/** Resolves once the workload has ticked `ticks` more times after now (it runs again after a move). */
export async function ticksAfter(w: PauseWatch, ticks: number, timeoutMs = 60_000): Promise<void> {
  const from = w.last();
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = w.last();
    if (now && (!from || now.instance !== from.instance || now.value >= from.value + ticks)) return;
    if (Date.now() > until) throw new Error(`the workload did not tick ${ticks} times within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
