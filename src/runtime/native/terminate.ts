/**
 * Stopping a container: the init of a PID namespace ignores SIGTERM unless it installed a handler, so every
 * process of the namespace gets SIGTERM, the init gets SIGKILL after the grace period (which kills the whole
 * namespace), and we wait until nothing is left.
 */
import { catchesSignal, isAlive, processesInPidNamespace, type ProcessIdentity } from '../../util/proc.js';
import { waitUntil } from '../../util/deadline.js';
import { logger } from '../../util/log.js';

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try { process.kill(pid, signal); } catch { /* exited meanwhile */ }
  }
}

export async function terminateTree(init: ProcessIdentity, pidNamespace: string, graceMs: number): Promise<void> {
  if (!isAlive(init)) return;
  const members = processesInPidNamespace(pidNamespace);
  logger.info(`stopping: SIGTERM to ${members.length} process(es), SIGKILL after ${graceMs} ms`);
  signalAll(members, 'SIGTERM');
  // The init only sees SIGTERM if it handles it; one that does not is killed as soon as it is the last one left.
  const initIgnoresTerm = !catchesSignal(init.pid, 15);
  const exited = await waitUntil('the container to exit', graceMs, () => {
    if (!isAlive(init)) return true;
    if (initIgnoresTerm && processesInPidNamespace(pidNamespace).every((pid) => pid === init.pid)) return false;
    return undefined;
  }, 100).catch(() => false);
  if (!exited) {
    logger.info(`container init ${init.pid} still alive${initIgnoresTerm ? ' (it ignores SIGTERM)' : ` after ${graceMs} ms`}: SIGKILL`);
    signalAll([init.pid], 'SIGKILL');
  }
  await waitUntil('the container\'s processes to disappear', 10_000,
    () => (!isAlive(init) && processesInPidNamespace(pidNamespace).length === 0 ? true : undefined), 50);
}
