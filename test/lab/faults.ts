/** Fault injection for lab tests: the CRIU wrapper test/lab/criu-fault.sh and its per-node switches. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeExec, REPO, type NodeId } from './lab.js';

export const FAULT_CRIU = join(REPO, 'test', 'lab', 'criu-fault.sh');
export type Fault = 'dump-fails' | 'restore-fails' | 'restore-slow' | 'dump-killed' | 'dump-slow' | 'swrk-restore-fails' | 'swrk-checkpoint-fails';

/** Points the wrapper at the real CRIU (it cannot see the tests' environment when Pacemaker runs it). */
export function useFaultWrapper(realCriu: string): string {
  writeFileSync(join(REPO, 'test', 'lab', '.real-criu'), `${realCriu}\n`);
  return FAULT_CRIU;
}

export async function setFault(node: NodeId, fault: Fault, on: boolean): Promise<void> {
  const path = `/run/ferry-fault/${fault}`;
  const r = on
    // the ".reached" marker of an earlier use goes too: a test waiting for it must see this use's
    ? await nodeExec(node, 'sh', ['-c', 'mkdir -p /run/ferry-fault && rm -f "$1.reached" && touch "$1"', 'sh', path])
    : await nodeExec(node, 'rm', ['-f', path, `${path}.reached`]);
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

/**
 * Slows node N's egress on `dev` (tc tbf) so that a transfer is still under way when a test interrupts it, however
 * fast this machine moves memory over a veth. Best effort: false (and nothing changed) where the kernel has no tbf
 * qdisc; the test then runs at the machine's own speed, as it did before.
 */
export async function throttle(node: NodeId, dev: string, rate = '1gbit'): Promise<boolean> {
  const r = await nodeExec(node, 'tc', ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '1mb', 'latency', '1s']);
  return r.exitCode === 0;
}

export async function unthrottle(node: NodeId, dev: string): Promise<void> {
  await nodeExec(node, 'tc', ['qdisc', 'del', 'dev', dev, 'root']);
}

/** MemAvailable of this machine (the lab nodes share it), in MiB. */
export function availableMiB(): number {
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return kb ? Math.floor(Number(kb) / 1024) : 0;
}
