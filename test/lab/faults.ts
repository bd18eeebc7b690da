/** Fault injection for lab tests: the CRIU wrapper test/lab/criu-fault.sh and its per-node switches. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeExec, REPO, type NodeId } from './lab.js';

export const FAULT_CRIU = join(REPO, 'test', 'lab', 'criu-fault.sh');
export type Fault = 'restore-fails' | 'dump-killed' | 'dump-slow';

/** Points the wrapper at the real CRIU (it cannot see the tests' environment when Pacemaker runs it). */
export function useFaultWrapper(realCriu: string): string {
  writeFileSync(join(REPO, 'test', 'lab', '.real-criu'), `${realCriu}\n`);
  return FAULT_CRIU;
}

export async function setFault(node: NodeId, fault: Fault, on: boolean): Promise<void> {
  const path = `/run/ferry-fault/${fault}`;
  const r = on
    ? await nodeExec(node, 'sh', ['-c', 'mkdir -p /run/ferry-fault && touch "$1"', 'sh', path])
    : await nodeExec(node, 'rm', ['-f', path]);
  if (r.exitCode !== 0) throw new Error(`could not ${on ? 'set' : 'clear'} fault ${fault} on node${node}: ${r.stderr}`);
}

/**
 * PIDs of the workload's Python processes (not the shell or unshare around them) for the given counter file,
 * across both nodes: they share the host PID space.
 */
export async function workloadPids(marker: string): Promise<number[]> {
  const r = await nodeExec(1, 'pgrep', ['-f', `^/usr/bin/python3 .*${marker}`]);
  return r.stdout.split('\n').filter(Boolean).map(Number);
}
