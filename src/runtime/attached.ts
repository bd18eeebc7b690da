/**
 * Processes that entered the container from outside (an `nsenter` shell, a debugger) live in its PID namespace
 * but are not descendants of its init: CRIU cannot checkpoint them with the tree, and the dump would fail with
 * the container frozen for nothing. Found before anything is frozen, so the admin can close them.
 */
import { readFileSync } from 'node:fs';
import { descendantsOf, processesInPidNamespace } from '../util/proc.js';

export interface Intruder { pid: number; command: string }

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 80) || '?';
  } catch {
    return '?';
  }
}

export function attachedFromOutside(initPid: number, pidNamespace: string): Intruder[] {
  const tree = descendantsOf(initPid);
  return processesInPidNamespace(pidNamespace).filter((pid) => !tree.has(pid)).map((pid) => ({ pid, command: commandOf(pid) }));
}
