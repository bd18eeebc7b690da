/**
 * Running a command inside a running container's namespaces: PID, UTS, IPC and network, and its mount namespace
 * where it has one of its own (an LXC container's root filesystem; a native container shares the host's).
 */
import { describeResult, lastLines, run } from '../util/run.js';
import { currentDeadline } from '../util/deadline.js';

export async function runInside(pid: number, command: string, o: { ownMounts?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  // timeout(1) inside the container kills the command's whole process group at its limit: killing only nsenter
  // would leave the command running in the container, where it would also block the next checkpoint
  // inside limit a little below ours (itself bounded by the action's deadline), so timeout(1) acts first
  const ownLimit = currentDeadline().bound(timeoutMs) ?? timeoutMs;
  const limitS = Math.max(0.2, (ownLimit - 600) / 1000).toFixed(1);
  const r = await run('nsenter', ['-t', String(pid), ...(o.ownMounts ? ['-m'] : []), '-p', '-u', '-i', '-n', '--',
    'timeout', '-s', 'KILL', limitS, '/bin/sh', '-c', command], { allowFailure: true, timeoutMs });
  // timeout(1) kills with SIGKILL, which nsenter passes on as its own death (or as 137)
  const killedInside = r.exitCode === 137 || (r.signal === 'SIGKILL' && !r.timedOut);
  if (killedInside) throw new Error(`monitor_cmd did not finish within ${limitS} s`);
  if (r.exitCode !== 0) {
    throw new Error(`monitor_cmd ${r.timedOut || r.signal ? describeResult(r) : `exited with ${r.exitCode}`}${r.stderr ? `: ${lastLines(r.stderr, 1)}` : ''}`);
  }
}
