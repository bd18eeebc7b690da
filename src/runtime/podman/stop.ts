/**
 * Stopping a podman container so that nothing is left: podman stop (SIGTERM, SIGKILL after stop_timeout, bounded
 * by the action's deadline), podman rm, then the recorded PID namespace must be empty (podman's own bookkeeping is
 * not trusted for that: a container whose conmon died is "stopped" to podman with its processes still running).
 */
import type { Config } from '../../settings/params.js';
import type { LocalRecord } from '../local-record.js';
import { isAlive, processesInPidNamespace } from '../../util/proc.js';
import { currentDeadline } from '../../util/deadline.js';
import { logger } from '../../util/log.js';
import { lastLines } from '../../util/run.js';
import { stopArgs } from './args.js';
import { podman, removeContainer } from './podman.js';
import { removeNetns } from './netns.js';

/** Kept for podman rm, the kill and the wait after it, however long stop_timeout is. */
const RESERVE_MS = 5000;

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
}

async function emptied(pidNamespace: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (processesInPidNamespace(pidNamespace).length > 0) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export async function stopContainer(config: Config, record: LocalRecord | undefined): Promise<void> {
  if (record && isAlive(record)) {
    const graceS = Math.max(0, Math.floor(Math.min(config.stop_timeout * 1000, currentDeadline().remainingMs() - RESERVE_MS) / 1000));
    logger.info(`stopping ${config.name}: podman stop, SIGKILL after ${graceS} s`);
    const r = await podman(config.criu_binary, stopArgs(config.name, graceS), { allowFailure: true, timeoutMs: graceS * 1000 + 10_000 });
    if (r.exitCode !== 0) logger.warning(`podman stop ${config.name}: ${lastLines(r.stderr, 2)}; removing it by force`);
  }
  await removeContainer(config.criu_binary, config.name).catch((err: unknown) => logger.warning(String(err)));
  if (record && !(await emptied(record.pidNamespace, 2000))) {
    const left = processesInPidNamespace(record.pidNamespace);
    logger.warning(`${left.length} process(es) of ${config.name} outlived podman rm: SIGKILL`);
    killAll(left);
    if (!(await emptied(record.pidNamespace, 3000))) throw new Error(`the container's processes did not disappear after SIGKILL`);
  }
  await removeNetns(config);
}
