/**
 * How big a running container is, for Pacemaker's utilization (placement-strategy): its memory limit and CPU
 * limit from the cgroups its init is in (v1 controllers where mounted, else the unified v2 hierarchy), and, without
 * a memory limit, the resident memory of its processes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processesInPidNamespace } from '../util/proc.js';

export interface ContainerSize {
  /** The memory cgroup's limit, MiB rounded up; undefined when unlimited. */
  memoryLimitMiB: number | undefined;
  /** The resident memory of all its processes, MiB. */
  residentMiB: number;
  /** The CPU limit in whole CPUs, rounded up (CFS quota over period); undefined when unlimited. */
  cpuLimit: number | undefined;
}

/** Where cgroups and /proc are (a test gives a tree of its own). */
export interface SizeRoots { sys: string; proc: string }
const HOST: SizeRoots = { sys: '/sys/fs/cgroup', proc: '/proc' };
const MiB = 1024 * 1024;
/** cgroup v1 says "no limit" with the largest page-aligned value; anything this large means the same. */
const UNLIMITED = 2 ** 60;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** controller -> the cgroup path of `pid` in its hierarchy ('' for the unified v2 one). */
export function cgroupsOf(pid: number, roots: SizeRoots = HOST): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of (read(join(roots.proc, String(pid), 'cgroup')) ?? '').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, controllers, path] = m as unknown as [string, string, string];
    if (controllers === '') found.set('', path);
    for (const c of controllers.split(',')) if (c) found.set(c, path);
  }
  return found;
}

/** The directory of a v1 controller's hierarchy (mounted as "cpu,cpuacct", "cpu" or "memory"), if any. */
function v1Dir(controller: 'memory' | 'cpu', path: string, roots: SizeRoots): string | undefined {
  for (const mount of controller === 'cpu' ? ['cpu,cpuacct', 'cpu', 'cpuacct,cpu'] : ['memory']) {
    const dir = join(roots.sys, mount, path);
    if (read(join(dir, controller === 'cpu' ? 'cpu.cfs_period_us' : 'memory.limit_in_bytes')) !== undefined) return dir;
  }
  return undefined;
}

export function memoryLimitBytes(pid: number, roots: SizeRoots = HOST): number | undefined {
  const groups = cgroupsOf(pid, roots);
  const v1 = groups.has('memory') ? v1Dir('memory', groups.get('memory') ?? '/', roots) : undefined;
  const text = v1 ? read(join(v1, 'memory.limit_in_bytes')) : groups.has('') ? read(join(roots.sys, groups.get('') ?? '/', 'memory.max')) : undefined;
  if (text === undefined || text === 'max') return undefined;
  const bytes = Number(text);
  return Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED ? bytes : undefined;
}

export function cpuLimit(pid: number, roots: SizeRoots = HOST): number | undefined {
  const groups = cgroupsOf(pid, roots);
  const v1 = groups.has('cpu') ? v1Dir('cpu', groups.get('cpu') ?? '/', roots) : undefined;
  let quota: number;
  let period: number;
  if (v1) {
    quota = Number(read(join(v1, 'cpu.cfs_quota_us')));
    period = Number(read(join(v1, 'cpu.cfs_period_us')));
  } else if (groups.has('')) {
    const [q, p] = (read(join(roots.sys, groups.get('') ?? '/', 'cpu.max')) ?? 'max').split(/\s+/);
    if (q === 'max') return undefined;
    quota = Number(q);
    period = Number(p ?? 100000);
  } else {
    return undefined;
  }
  if (!(quota > 0) || !(period > 0)) return undefined; // -1: no quota
  return Math.ceil(quota / period);
}

/** Resident bytes of the processes, from /proc/PID/statm (pages). */
export function residentBytes(pids: readonly number[], roots: SizeRoots = HOST, pageSize = 4096): number {
  let total = 0;
  for (const pid of pids) {
    const pages = Number((read(join(roots.proc, String(pid), 'statm')) ?? '').split(' ')[1]);
    if (Number.isFinite(pages)) total += pages * pageSize;
  }
  return total;
}

export function containerSize(init: number, pidNamespace: string | undefined): ContainerSize {
  const limit = memoryLimitBytes(init);
  const members = pidNamespace ? processesInPidNamespace(pidNamespace) : [init];
  return {
    memoryLimitMiB: limit === undefined ? undefined : Math.ceil(limit / MiB),
    residentMiB: residentBytes(members.length ? members : [init]) / MiB,
    cpuLimit: cpuLimit(init),
  };
}

/** Resident memory is rounded up to this for utilization, so the attribute does not change with every page. */
export const RESIDENT_STEP_MIB = 64;

/**
 * The utilization "memory" to set: the limit when there is one; else the resident memory rounded up to 64 MiB,
 * kept while it stays between half of `current` and `current` (no CIB write for every small change).
 */
export function memoryUtilization(size: ContainerSize, current: number | undefined): number {
  if (size.memoryLimitMiB !== undefined) return size.memoryLimitMiB;
  const rounded = Math.max(RESIDENT_STEP_MIB, Math.ceil(size.residentMiB / RESIDENT_STEP_MIB) * RESIDENT_STEP_MIB);
  if (current !== undefined && size.residentMiB <= current && size.residentMiB * 2 >= current) return current;
  return rounded;
}
