/**
 * Launching the container's process tree: `unshare` makes new PID, UTS, IPC and network namespaces (the host
 * mount namespace is shared) and forks the container's init, which waits on its stdin for "go" while the agent
 * wires the network, then execs the admin's command as PID 1. Without "go" (the agent died) it exits instead of
 * running unwired. The init is a session leader inside its PID namespace, as CRIU requires, and inherits no
 * descriptor above 2 (a leaked one makes a checkpoint fail).
 */
import { childrenOf } from '../../util/proc.js';
import { waitUntil } from '../../util/deadline.js';
import { logger } from '../../util/log.js';
import { renderCommand } from '../../util/run.js';

const INIT_SCRIPT = 'read -r go && [ "$go" = go ] || exit 1; hostname "$1"; exec /bin/sh -c "$2" </dev/null';

export interface Launched {
  /** Host PID of the container's init. */
  initPid: number;
  /** Lets the init exec the admin's command. */
  release(): void;
  /** Kills the half-made container (before release). */
  abort(): void;
}

export async function launchInit(name: string, command: string): Promise<Launched> {
  const args = ['--net', '--pid', '--fork', '--uts', '--ipc', '--', 'setsid', '/bin/sh', '-c', INIT_SCRIPT, 'ferry-init', name, command];
  logger.debug(`running: ${renderCommand('unshare', args)}`);
  const { execa } = await import('../../util/third-party.js');
  const unshare = execa('unshare', args, {
    detached: true, stdin: 'pipe', stdout: 'ignore', stderr: 'ignore', reject: false, cleanup: false,
  });
  unshare.catch(() => undefined);
  const parentPid = unshare.pid;
  if (parentPid === undefined) throw new Error('could not run unshare (is util-linux installed?)');
  const stdin = unshare.stdin;
  const finish = () => { stdin?.end(); unshare.unref(); };
  try {
    const initPid = await waitUntil('the container init to appear', 5000, () => childrenOf(parentPid)[0]);
    return {
      initPid,
      release: () => { stdin?.write('go\n'); finish(); },
      abort: () => { finish(); try { process.kill(initPid, 'SIGKILL'); } catch { /* already gone */ } },
    };
  } catch (err) {
    finish();
    try { process.kill(parentPid, 'SIGKILL'); } catch { /* already gone */ }
    throw err;
  }
}
