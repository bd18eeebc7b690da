/** Running CRIU: dump, restore, check; failures carry the tail of CRIU's own log, where the real reason is. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../util/run.js';
import { ensurePrivateDir } from '../util/files.js';
import { runDir } from '../runtime/local-record.js';
import { checkArgs, dumpArgs, finalDumpArgs, preDumpArgs, restoreArgs, type DumpRequest, type PreDumpRequest, type RestoreRequest } from './args.js';
import { parseDumpStats, parseRestoreStats, type DumpStats, type RestoreStats } from './stats.js';

export class CriuError extends Error {
  constructor(readonly operation: string, readonly exitCode: number, readonly how: string, readonly logTail: string) {
    super(`criu ${operation} failed (${how})${logTail ? `: ${logTail}` : ''}`);
  }
}

function how(r: RunResult): string {
  if (r.timedOut) return 'timed out';
  return r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
}

/** The last error lines of a CRIU log, minus the harmless RLIMIT_NOFILE complaint every run prints. */
export function criuLogTail(logText: string, count = 2): string {
  return logText.split('\n')
    .filter((l) => /Error|error|fail/i.test(l) && !l.includes('RLIMIT_NOFILE'))
    .slice(-count)
    .map((l) => l.replace(/^\(\d+\.\d+\)\s*/, '').trim())
    .join(' | ');
}

export function readLog(dir: string, file: string): string {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return '';
  }
}

export function failIfNeeded(op: string, r: RunResult, dir: string, logFile: string): void {
  if (r.exitCode === 0) return;
  const tail = criuLogTail(readLog(dir, logFile)) || criuLogTail(r.stderr) || r.stderr.trim().split('\n').slice(-1)[0] || '';
  throw new CriuError(op, r.exitCode, how(r), tail);
}

/** flock(1)'s exit code when the lock could not be had in time. */
export const LOCK_BUSY = 75;
export const LOCK_BUSY_REASON = 'another CRIU run on this node held the lock until the deadline';

export class Criu {
  constructor(readonly binary: string) {}

  /**
   * Dumps and restores on one node run one at a time. Containers share the node's mount namespace, and CRIU's
   * parasite mounts a private /proc for a task of another PID namespace at a fixed path: two dumps at once (an
   * evacuation) collide there ("Can't create a directory (-17)" in the parasite) and one fails.
   */
  // --close: CRIU and the trees it restores must not inherit the lock's descriptor (it would be checkpointed next time)
  private async serialized(op: string, args: string[], dir: string, log: string, timeoutMs?: number, signal?: AbortSignal): Promise<RunResult> {
    const locked = this.lockedCommand(args, timeoutMs);
    const r = await run(locked.file, locked.args, { allowFailure: true, killTree: true, ...(timeoutMs ? { timeoutMs } : {}), ...(signal ? { signal } : {}) });
    if (r.exitCode === LOCK_BUSY) throw new CriuError(op, r.exitCode, 'not started', LOCK_BUSY_REASON);
    failIfNeeded(op, r, dir, log);
    return r;
  }

  /** CRIU with `args`, run under the node's CRIU lock (for callers that start it themselves, in the background). */
  lockedCommand(args: readonly string[], timeoutMs?: number): { file: string; args: string[] } {
    ensurePrivateDir(runDir());
    const waitS = ((timeoutMs ?? 600_000) / 1000).toFixed(1);
    return { file: 'flock', args: ['--close', '--wait', waitS, '--conflict-exit-code', String(LOCK_BUSY), join(runDir(), 'criu.lock'), this.binary, ...args] };
  }

  async dump(request: DumpRequest, timeoutMs?: number): Promise<DumpStats> {
    const r = await this.serialized('dump', dumpArgs(request), request.imagesDir, 'dump.log', timeoutMs);
    return parseDumpStats(`${r.stdout}\n${r.stderr}`);
  }

  async preDump(request: PreDumpRequest, timeoutMs?: number): Promise<DumpStats> {
    const r = await this.serialized('pre-dump', preDumpArgs(request), request.imagesDir, 'pre-dump.log', timeoutMs);
    return parseDumpStats(`${r.stdout}\n${r.stderr}`);
  }

  async finalDump(request: DumpRequest & { parentDir: string }, timeoutMs?: number): Promise<DumpStats> {
    const r = await this.serialized('dump', finalDumpArgs(request), request.imagesDir, 'dump.log', timeoutMs);
    return parseDumpStats(`${r.stdout}\n${r.stderr}`);
  }

  async restore(request: RestoreRequest, timeoutMs?: number, signal?: AbortSignal): Promise<RestoreStats> {
    // with a work dir (lazy restores) CRIU writes its log there
    const r = await this.serialized('restore', restoreArgs(request), request.lazyWorkDir ?? request.imagesDir, 'restore.log', timeoutMs, signal);
    return parseRestoreStats(`${r.stdout}\n${r.stderr}`);
  }

  /** Exit code 0 of `criu check [--feature F]`; the output explains a failure. */
  async check(feature?: string): Promise<{ ok: boolean; output: string }> {
    const r = await run(this.binary, checkArgs(feature), { allowFailure: true, timeoutMs: 20_000 });
    const output = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() && !l.includes('RLIMIT_NOFILE')).join(' | ');
    return { ok: r.exitCode === 0, output: output || (r.exitCode === 0 ? 'ok' : `${this.binary} ${how(r)} without saying why`) };
  }

  async version(): Promise<string | undefined> {
    const r = await run(this.binary, ['--version'], { allowFailure: true, timeoutMs: 10_000 });
    return /Version:\s*(\S+)/.exec(r.stdout)?.[1];
  }
}
