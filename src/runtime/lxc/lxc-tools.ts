/**
 * LXC's own tools, as the driver runs them: every call names the container by LXCPATH and NAME (-P, -n), logs to
 * a file Ferry keeps (LXC's stderr says little), and gets a PATH whose `criu` is the resource's criu_binary:
 * lxc-checkpoint execs `criu` from PATH, and the system's may be too old for the kernel or missing.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run, type RunResult } from '../../util/run.js';
import { runDir } from '../../util/run-dir.js';
import { which } from '../../util/which.js';
import { ensurePrivateDir } from '../../util/files.js';

export interface LxcContainer { name: string; lxcPath: string; criuBinary: string }

/** LXCPATH of a configuration at LXCPATH/NAME/config. */
export function lxcPathOf(configPath: string): string {
  return dirname(dirname(configPath));
}

export const lxcLogPath = (name: string) => join(runDir(), 'lxc', `${name}.log`);

/** A directory holding only `criu`, a link to the resource's CRIU, to put first in the tools' PATH. */
function criuPathDir(criuBinary: string): string {
  const dir = join(runDir(), 'lxc', 'criu-path');
  const target = which(criuBinary);
  if (!target) throw new Error(`criu_binary ${criuBinary} not found`);
  ensurePrivateDir(join(runDir(), 'lxc'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  rmSync(join(dir, 'criu'), { force: true });
  symlinkSync(target, join(dir, 'criu'));
  return dir;
}

export async function lxcTool(c: LxcContainer, tool: string, args: readonly string[], o: { timeoutMs?: number; withCriu?: boolean } = {}): Promise<RunResult> {
  ensurePrivateDir(join(runDir(), 'lxc'));
  const env = o.withCriu ? { PATH: `${criuPathDir(c.criuBinary)}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` } : undefined;
  return run(tool, ['-n', c.name, '-P', c.lxcPath, '--logfile', lxcLogPath(c.name), '--logpriority', 'INFO', ...args],
    { allowFailure: true, timeoutMs: o.timeoutMs ?? 30_000, ...(env ? { env } : {}) });
}

/** The last error lines LXC logged, for a failure's message. */
export function lxcLogTail(name: string, count = 2): string {
  try {
    return readFileSync(lxcLogPath(name), 'utf8').split('\n').filter((l) => / ERROR /.test(l)).slice(-count)
      .map((l) => l.replace(/^.*? ERROR\s+/, '')).join(' | ');
  } catch {
    return '';
  }
}

/** The init's pid as lxc-info reports it, undefined when the container does not run. */
export async function lxcInfoPid(c: LxcContainer): Promise<number | undefined> {
  const r = await lxcTool(c, 'lxc-info', ['-p', '-H'], { timeoutMs: 10_000 });
  const pid = Number(r.stdout.trim());
  return r.exitCode === 0 && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
