/**
 * Stopping a container: the init of a PID namespace ignores SIGTERM unless it installed a handler, so every
 * process of the namespace gets SIGTERM, the init gets SIGKILL after the grace period (which kills the whole
 * namespace), and we wait until nothing is left.
 */
import { catchesSignal, isAlive, processesInPidNamespace, type ProcessIdentity } from '../../util/proc.js';
import { currentDeadline, waitUntil } from '../../util/deadline.js';
import { logger } from '../../util/log.js';

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try { process.kill(pid, signal); } catch { /* exited meanwhile */ }
  }
}

/** Kept for SIGKILL and the wait after it, however long stop_timeout is: a stop that times out gets the node fenced. */
const KILL_RESERVE_MS = 2000;

export async function terminateTree(init: ProcessIdentity, pidNamespace: string, stopTimeoutMs: number): Promise<void> {
  if (!isAlive(init)) return;
  const graceMs = Math.max(0, Math.min(stopTimeoutMs, currentDeadline().remainingMs() - KILL_RESERVE_MS));
  const members = processesInPidNamespace(pidNamespace);
  logger.info(`stopping: SIGTERM to ${members.length} process(es), SIGKILL after ${graceMs} ms`);
  signalAll(members, 'SIGTERM');
  // The init only sees SIGTERM if it handles it; one that does not is killed as soon as it is the last one left.
  const initIgnoresTerm = !catchesSignal(init.pid, 15);
  let onlyInitLeft = false;
  const exited = await waitUntil('the container to exit', graceMs, () => {
    if (!isAlive(init)) return true;
    onlyInitLeft = initIgnoresTerm && processesInPidNamespace(pidNamespace).every((pid) => pid === init.pid);
    return onlyInitLeft ? false : undefined;
  }, 100).catch(() => false);
  if (!exited) {
    logger.info(`container init ${init.pid} still alive${onlyInitLeft ? ' (it ignores SIGTERM)' : ` after ${graceMs} ms`}: SIGKILL`);
    signalAll([init.pid], 'SIGKILL');
  }
  const killedAt = Date.now();
  // SIGKILL of a namespace's init is immediate; the wait for the kernel to reap it runs on the reserve kept for it,
  // and ends by the deadline: a stop that outlasts Pacemaker's timeout gets the node fenced without a reason
  const until = Math.min(Date.now() + KILL_RESERVE_MS + 3000, Math.max(Date.now() + KILL_RESERVE_MS, currentDeadline().at));
  while (isAlive(init) || processesInPidNamespace(pidNamespace).length > 0) {
    if (Date.now() > until) throw new Error(`the container's processes did not disappear within ${Date.now() - killedAt} ms of SIGKILL`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
