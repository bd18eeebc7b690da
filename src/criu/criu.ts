/** Running CRIU: dump, restore, check; failures carry the tail of CRIU's own log, where the real reason is. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../util/run.js';
import { ensurePrivateDir } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { checkArgs, dumpArgs, finalDumpArgs, preDumpArgs, restoreArgs, type DumpRequest, type PreDumpRequest, type RestoreRequest } from './args.js';
import { restoreHookPath, ROOT_PID_FILE_ENV } from './restore-hook.js';
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

/**
 * Whether a CRIU run must hold the node's CRIU lock: 'node' for trees that share the node's mount namespace
 * (native), 'none' for trees with a mount namespace and a /proc of their own (an LXC container), see serialized.
 */
export type CriuLock = 'node' | 'none';

export class Criu {
  constructor(readonly binary: string) {}

  /**
   * Dumps and restores on one node run one at a time. Native containers share the node's mount namespace, and
   * CRIU's parasite mounts a private /proc for a task of another PID namespace at a fixed path: two dumps at once
   * (an evacuation) collide there ("Can't create a directory (-17)" in the parasite) and one fails. A container
   * with its own mount namespace and its own PID namespace's /proc mounted (LXC) gives the parasite that /proc
   * and nothing of the node's to collide on: with lock 'none' its dumps run at once (an evacuation in parallel).
   */
  // --close: CRIU and the trees it restores must not inherit the lock's descriptor (it would be checkpointed next time)
  private async serialized(op: string, args: string[], dir: string, log: string, timeoutMs?: number, signal?: AbortSignal, lock: CriuLock = 'node',
    env?: Record<string, string>): Promise<RunResult> {
    const command = lock === 'node' ? this.lockedCommand(args, timeoutMs) : { file: this.binary, args };
    const r = await run(command.file, command.args, {
      allowFailure: true, killTree: true, ...(timeoutMs ? { timeoutMs } : {}), ...(signal ? { signal } : {}), ...(env ? { env } : {}),
    });
    if (r.exitCode === LOCK_BUSY) throw new CriuError(op, r.exitCode, 'not started', LOCK_BUSY_REASON);
    failIfNeeded(op, r, dir, log);
    return r;
  }

  /**
   * Takes the node's CRIU lock for a run that must let it go before it ends (a lazy dump, once its images are
   * written: its page server may then serve for minutes, and other containers' dumps must not wait for that).
   * A holder process keeps the lock until `release` (or until this process dies: its pipe then closes).
   */
  async holdNodeLock(timeoutMs?: number): Promise<() => void> {
    ensurePrivateDir(runDir());
    const waitS = ((timeoutMs ?? 600_000) / 1000).toFixed(1);
    const { execa } = await import('../util/third-party.js');
    const holder = execa('flock', ['--close', '--wait', waitS, '--conflict-exit-code', String(LOCK_BUSY), join(runDir(), 'criu.lock'), 'sh', '-c', 'echo held; exec cat'],
      { stdin: 'pipe', buffer: false, reject: false });
    const release = () => { holder.stdin?.end(); };
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('held')) resolve(); });
      void Promise.resolve(holder).then((r) => reject(r.exitCode === LOCK_BUSY
        ? new CriuError('dump', LOCK_BUSY, 'not started', LOCK_BUSY_REASON)
        : new Error(`could not take the node's CRIU lock (flock ${r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`})`)));
    });
    return release;
  }

  /** CRIU with `args`, run under the node's CRIU lock (for callers that start it themselves, in the background). */
  lockedCommand(args: readonly string[], timeoutMs?: number): { file: string; args: string[] } {
    ensurePrivateDir(runDir());
    const waitS = ((timeoutMs ?? 600_000) / 1000).toFixed(1);
    return { file: 'flock', args: ['--close', '--wait', waitS, '--conflict-exit-code', String(LOCK_BUSY), join(runDir(), 'criu.lock'), this.binary, ...args] };
  }

  async dump(request: DumpRequest, timeoutMs?: number, lock: CriuLock = 'node'): Promise<DumpStats> {
    const r = await this.serialized('dump', dumpArgs(request), request.imagesDir, 'dump.log', timeoutMs, undefined, lock);
    return parseDumpStats(`${r.stdout}\n${r.stderr}`);
  }

  async preDump(request: PreDumpRequest, timeoutMs?: number): Promise<DumpStats> {
    const r = await this.serialized('pre-dump', preDumpArgs(request), request.imagesDir, 'pre-dump.log', timeoutMs);
    return parseDumpStats(`${r.stdout}\n${r.stderr}`);
  }

  async finalDump(request: DumpRequest & { parentDir: string }, timeoutMs?: number, lock: CriuLock = 'node'): Promise<DumpStats> {
    const r = await this.serialized('dump', finalDumpArgs(request), request.imagesDir, 'dump.log', timeoutMs, undefined, lock);
    return parseDumpStats(`${r.stdout}\n${r.stderr}`);
  }

  async restore(request: RestoreRequest, timeoutMs?: number, signal?: AbortSignal): Promise<RestoreStats> {
    const hooked = request.rootPidFile ? { ...request, actionScript: restoreHookPath() } : request;
    const env = request.rootPidFile ? { [ROOT_PID_FILE_ENV]: request.rootPidFile } : undefined;
    // with a work dir (lazy restores) CRIU writes its log there
    const r = await this.serialized('restore', restoreArgs(hooked), request.lazyWorkDir ?? request.imagesDir, 'restore.log', timeoutMs, signal, 'node', env);
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
