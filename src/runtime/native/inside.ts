/** Running a command inside a running container's namespaces (PID, UTS, IPC, network; the host mount namespace). */
import { run, lastLines } from '../../util/run.js';

export async function runInside(pid: number, command: string, timeoutMs = 10_000): Promise<void> {
  const r = await run('nsenter', ['-t', String(pid), '-p', '-u', '-i', '-n', '--', '/bin/sh', '-c', command],
    { allowFailure: true, timeoutMs });
  if (r.exitCode !== 0) {
    throw new Error(`monitor_cmd exited with ${r.exitCode}${r.stderr ? `: ${lastLines(r.stderr, 1)}` : ''}`);
  }
}
