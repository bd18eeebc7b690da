/** Resident memory of a set of processes, from /proc/PID/statm (what a checkpoint will roughly have to write). */
import { readFileSync } from 'node:fs';

const PAGE = 4096;

export function residentBytes(pids: readonly number[]): number {
  let pages = 0;
  for (const pid of pids) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1] ?? 0);
    } catch { /* exited meanwhile */ }
  }
  return pages * PAGE;
}

/** MemAvailable from /proc/meminfo: what the node can give a restored container without swapping. */
export function availableMemoryBytes(meminfo?: string): number {
  let text = meminfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/meminfo', 'utf8');
    } catch {
      return 0;
    }
  }
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(text)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}
