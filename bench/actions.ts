/**
 * What each agent action costs, process start and imports included, run the way Pacemaker runs it (the installed
 * entry, OCF_RESKEY_* environment) inside the two lab nodes, beside the floor any Node.js program pays
 * (`node -e 0` in the same node). Each run goes through bench/rusage.py: wall time, and the CPU of the action and
 * of everything it waited for (so CRIU's own work is inside migrate_to and migrate_from: the container is a bare
 * `sleep`, whose checkpoint is small, so that what remains is mostly Ferry's). The monitor is the slow path (no
 * helper verdict: FERRY_SLOW_MONITOR=1); bench/monitor.ts measures the fast one.
 *
 * One round: start on node1, monitor, validate-all, migrate_to + migrate_from to node2 and back, stop, meta-data,
 * with the floor measured between; medians over the rounds.
 * usage: node dist/bench/actions.js [--rounds 10]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, labUp, LAB_DIR, nodeExec, nodeName, REPO, SHARED_DIR, type NodeId } from '../test/lab/lab.js';
import { AGENT } from '../test/lab/agent-in-node.js';
import { criuForTests } from '../test/lab/criu-for-tests.js';
import { barChartSvg } from './svg.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const ROUNDS = Number(arg('rounds', '10'));
const RUSAGE = join(REPO, 'bench', 'rusage.py');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

interface Sample { ms: number; cpuMs: number }
const samples = new Map<string, Sample[]>();

async function measured(name: string, node: NodeId, argv: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await nodeExec(node, 'python3', [RUSAGE, ...argv], { env, timeoutMs: 300_000 });
  const [wallNs, user, sys, , code] = r.stdout.trim().split(/\s+/).map(Number);
  if (code !== 0) throw new Error(`${name} on ${nodeName(node)} exited ${code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const list = samples.get(name) ?? [];
  list.push({ ms: (wallNs ?? NaN) / 1e6, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000 });
  samples.set(name, list);
}

function agentEnv(node: NodeId, params: Record<string, string>, meta: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { OCF_RESOURCE_INSTANCE: params.name ?? 'bench', OCF_ROOT: '/usr/lib/ocf' };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  for (const [k, v] of Object.entries({ on_node: nodeName(node), timeout: '120000', ...meta })) env[`OCF_RESKEY_CRM_meta_${k}`] = v;
  return env;
}

async function move(from: NodeId, to: NodeId, params: Record<string, string>): Promise<void> {
  const meta = { migrate_source: nodeName(from), migrate_target: nodeName(to) };
  await measured('migrate_to', from, [AGENT, 'migrate_to'], agentEnv(from, params, meta));
  await measured('migrate_from', to, [AGENT, 'migrate_from'], agentEnv(to, params, meta));
}

async function main(): Promise<void> {
  const criu = await criuForTests();
  await labUp();
  const params = { name: 'bench-actions', command: 'exec sleep 1000000', state_dir: SHARED_DIR, criu_binary: criu, authkey: join(LAB_DIR, 'authkey'), stop_timeout: '3' };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await measured('node -e 0', 1, ['node', '-e', '0']);
      await measured('start', 1, [AGENT, 'start'], agentEnv(1, params));
      await measured('monitor (slow path)', 1, [AGENT, 'monitor'], { ...agentEnv(1, params, { interval: '10000' }), FERRY_SLOW_MONITOR: '1' });
      await measured('validate-all', 1, [AGENT, 'validate-all'], agentEnv(1, params));
      await move(1, 2, params);
      await measured('node -e 0', 2, ['node', '-e', '0']);
      await move(2, 1, params);
      await measured('stop', 1, [AGENT, 'stop'], agentEnv(1, params));
      await measured('meta-data', 1, [AGENT, 'meta-data'], agentEnv(1, params));
    }
  } finally {
    await nodeExec(1, AGENT, ['stop'], { env: agentEnv(1, params) }).catch(() => undefined);
    await nodeExec(2, AGENT, ['stop'], { env: agentEnv(2, params) }).catch(() => undefined);
    await labDown().catch((err: unknown) => process.stderr.write(`lab down: ${String(err)}\n`));
  }
  const floor = median((samples.get('node -e 0') ?? []).map((s) => s.cpuMs));
  const rows = [...samples].map(([name, list]) => {
    const ms = median(list.map((s) => s.ms));
    const cpuMs = median(list.map((s) => s.cpuMs));
    return { name, runs: list.length, ms: Math.round(ms * 10) / 10, cpuMs: Math.round(cpuMs * 10) / 10, cpuVsNode: Math.round((cpuMs / floor) * 100) / 100 };
  });
  process.stdout.write(`medians of ${ROUNDS} rounds (wall, CPU with every descendant, CPU as a multiple of node -e 0's):\n`);
  for (const r of rows) process.stdout.write(`  ${r.name.padEnd(22)} ${r.ms.toFixed(1).padStart(8)} ms wall ${r.cpuMs.toFixed(1).padStart(8)} ms CPU  ${r.cpuVsNode.toFixed(2)}x\n`);
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'actions.json'), `${JSON.stringify({ when: new Date().toISOString(), rounds: ROUNDS, rows }, null, 2)}\n`);
  writeFileSync(join(out, 'actions.svg'), barChartSvg({
    title: 'What each agent action costs (median CPU, ms, with its descendants)', unit: 'ms CPU',
    categories: rows.map((r) => r.name),
    series: [{ name: 'CPU', values: rows.map((r) => r.cpuMs) }, { name: 'wall', values: rows.map((r) => r.ms) }],
  }));
  process.stdout.write('wrote bench/results/actions.json and actions.svg\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
