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
