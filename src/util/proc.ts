/** Reading process facts from /proc: identity (PID plus start time, immune to PID reuse) and namespaces. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat). */
  startTime: number;
}

interface StatFields {
  state: string;
  ppid: number;
  startTime: number;
}

/** Parses /proc/PID/stat; the command name may contain spaces and parentheses, so fields count from the last ")". */
export function parseStat(text: string): StatFields | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const ppid = Number(fields[1]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return undefined;
  return { state, ppid, startTime };
}

export function readStat(pid: number): StatFields | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True when the same process (not a reused PID) is alive and not a zombie. */
export function isAlive(id: ProcessIdentity): boolean {
  const stat = readStat(id.pid);
  return stat !== undefined && stat.startTime === id.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

export function identityOf(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime } : undefined;
}

export function namespaceOf(pid: number, kind: 'pid' | 'net' | 'mnt'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Every process whose PID namespace is `pidNamespace` (as readlink of /proc/PID/ns/pid prints it). A container's
 * PID namespace is never the caller's own: a record naming that one (a corrupt or wrong identity) would make a stop
 * signal every process of the node, so it is refused here, where both drivers enumerate what they kill.
 */
export function processesInPidNamespace(pidNamespace: string): number[] {
  if (pidNamespace === namespaceOf(process.pid, 'pid')) throw new Error(`refusing to act on every process of this node's own PID namespace (${pidNamespace}) as a container's`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    if (namespaceOf(pid, 'pid') === pidNamespace) found.push(pid);
  }
  return found;
}

/** True when the process installed a handler for the signal (SigCgt in /proc/PID/status). */
export function catchesSignal(pid: number, signal: number): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (BigInt(`0x${m[1]}`) >> BigInt(signal - 1)) % 2n === 1n : false;
  } catch {
    return false;
  }
}

/** True when the process is the init (PID 1) of a PID namespace below ours, as a container's init is. */
/** A process's arguments, NUL-separated as the kernel keeps them ('' when gone or unreadable). */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

export function isPidNamespaceInit(pid: number): boolean {
  try {
    const m = /^NSpid:\s*(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const levels = m?.[1]?.trim().split(/\s+/) ?? [];
    return levels.length >= 2 && levels[levels.length - 1] === '1';
  } catch {
    return false;
  }
}

/** Now, in clock ticks since boot (CLOCK_BOOTTIME, the clock of a process's start time in /proc/PID/stat). */
export function bootTicksNow(clockTicks = 100): number | undefined {
  try {
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Number.isFinite(up) ? Math.floor(up * clockTicks) : undefined;
  } catch {
    return undefined;
  }
}

/** When the process started, in ms since the epoch (boot time plus its start time in clock ticks). */
export function startedAtMs(startTime: number, clockTicks = 100): number | undefined {
  try {
    const btime = /^btime\s+(\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    return btime === undefined ? undefined : Number(btime) * 1000 + (startTime * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** The process and all its descendants, following every thread's children list in /proc. */
export function descendantsOf(root: number): Set<number> {
  const seen = new Set<number>([root]);
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop() as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch { continue; }
    for (const tid of tasks) {
      try {
        for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)) {
          if (!seen.has(child)) { seen.add(child); queue.push(child); }
        }
      } catch { /* exited meanwhile */ }
    }
  }
  return seen;
}
