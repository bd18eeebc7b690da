/** What podman prints, parsed: `container inspect`, `image inspect`, and the --print-stats of checkpoint and restore. */
import type { DumpStats } from '../../criu/stats.js';

export interface PodmanContainer {
  id: string;
  status: string;
  /** The init's host PID, 0 when it is not running. */
  pid: number;
  imageId: string;
  /** podman's per-container directory (dump.log, restore.log). */
  staticDir: string | undefined;
}

function firstObject(json: string, what: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(`podman ${what}: output is not JSON`);
  }
  const first = Array.isArray(raw) ? raw[0] : undefined;
  if (typeof first !== 'object' || first === null) throw new Error(`podman ${what}: no object in the output`);
  return first as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function parseContainerInspect(json: string): PodmanContainer {
  const o = firstObject(json, 'container inspect');
  const state = (typeof o.State === 'object' && o.State !== null ? o.State : {}) as Record<string, unknown>;
  const id = str(o.Id);
  if (!id) throw new Error('podman container inspect: no Id');
  return {
    id,
    status: str(state.Status) ?? 'unknown',
    pid: typeof state.Pid === 'number' ? state.Pid : 0,
    imageId: str(o.Image) ?? '',
    staticDir: str(o.StaticDir),
  };
}

export function parseImageId(json: string): string {
  const id = str(firstObject(json, 'image inspect').Id);
  if (!id) throw new Error('podman image inspect: no Id');
  return id;
}

export interface RuntimeStats {
  /** podman's whole checkpoint or restore, µs */
  podmanUs: number | undefined;
  /** runc's part, µs */
  runtimeUs: number | undefined;
  /** CRIU's frozen time (checkpoint) or restore time (restore), µs */
  criuUs: number | undefined;
  pages: number | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** --print-stats output: one JSON object; podman may print the container's ID before it. */
export function parseStats(stdout: string, kind: 'checkpoint' | 'restore'): RuntimeStats {
  const start = stdout.indexOf('{');
  let o: Record<string, unknown> = {};
  try {
    o = start >= 0 ? JSON.parse(stdout.slice(start)) as Record<string, unknown> : {};
  } catch { /* no statistics: the figures stay unknown */ }
  const c = (Array.isArray(o.container_statistics) ? o.container_statistics[0] : undefined) as Record<string, unknown> | undefined;
  const criu = (c?.criu_statistics ?? {}) as Record<string, unknown>;
  return {
    podmanUs: num(o[`podman_${kind}_duration`]),
    runtimeUs: num(c?.[`runtime_${kind}_duration`]),
    criuUs: num(kind === 'checkpoint' ? criu.frozen_time : criu.restore_time),
    pages: num(kind === 'checkpoint' ? criu.pages_written : criu.pages_restored),
  };
}

/** CRIU's figures as podman reports them: the frozen time and pages written, nothing finer. */
export function dumpStatsOf(s: RuntimeStats): DumpStats {
  return {
    freezingTimeUs: undefined, frozenTimeUs: s.criuUs, memdumpTimeUs: undefined, memwriteTimeUs: undefined,
    pagesScanned: undefined, pagesWritten: s.pages, pagesSkippedParent: undefined, pagesLazy: undefined,
  };
}

/** "no such container" / "no such image" in podman's words, as opposed to podman failing. */
export function saysMissing(stderr: string): boolean {
  return /no such (container|image|object)|image not known|failed to find image/i.test(stderr);
}

/**
 * What podman says went wrong, for an exit reason (Pacemaker keeps 128 characters of one): its last "Error: …" line,
 * else the message of its last level=error log line, else its last two lines. The log lines before the "Error:"
 * line start with a timestamp, which is all a reason cut from the last lines showed (measured, podman 4.3.1).
 */
export function podmanError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = lines.filter((l) => l.startsWith('Error: ')).at(-1);
  if (error) return error.slice('Error: '.length);
  const logged = lines.map((l) => /level=error msg="((?:[^"\\]|\\.)*)"/.exec(l)?.[1]).filter((m): m is string => m !== undefined).at(-1);
  return logged ?? lines.slice(-2).join(' | ');
}
