/**
 * A node full of containers under real Pacemaker in the lab: what it costs to start them, to probe them all
 * (`crm_resource --refresh`), to drain the node live, and to monitor them every 10 s, with node1's helper keeping
 * verdicts (the fast monitor) and, in the same run, with it stopped (every monitor starts Node.js).
 *
 * CPU is the kernel's accounting, not an estimate: for each node, pacemaker-execd's user+system time plus that of
 * every child it waited for (the agents and what they ran: /proc/PID/stat utime, stime, cutime, cstime), plus the
 * node's `ferry serve` (its own time and its children's: monitor_cmd, lxc-info). Pacemaker's scheduler and
 * controller are the same with any agent and are left out.
 *
 * The containers are small (`sleep`, no address), so that the figures are the agent's and Pacemaker's, not the
 * workload's. usage: node dist/bench/node-scale.js [--count 50] [--monitored 100] [--window 300]
 */
import { readFileSync, readdirSync, readlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { crm, LAB_DIR, LAB_SH, labDown, labUp, REPO, resourceNodes, SHARED_DIR, waitFor, type NodeId } from '../test/lab/lab.js';
import { createResource, settled, standby } from '../test/lab/cluster.js';
import { criuForTests } from '../test/lab/scenario.js';
import { barChartSvg } from './svg.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const COUNT = Number(arg('count', '50'));
const MONITORED = Number(arg('monitored', '100'));
const WINDOW_S = Number(arg('window', '300'));
const TICKS = 100;

/** A process's own CPU ticks and those of the children it waited for (utime+stime, cutime+cstime). */
function ownAndChildrenTicks(pid: number): { own: number; children: number } {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: fields 14-17, i.e. 11-14 after the command name
    const at = (i: number) => Number(f[i] ?? 0);
    return { own: at(11) + at(12), children: at(13) + at(14) };
  } catch {
    return { own: 0, children: 0 };
  }
}

function statTicks(pid: number): number {
  const t = ownAndChildrenTicks(pid);
  return t.own + t.children;
}

/** Node n's monitor side in parts (CPU s so far): execd itself, the agents it ran, the helper, what the helper ran. */
function nodeCpuParts(n: NodeId): Record<string, number> {
  const execd = ownAndChildrenTicks(execdOf(n));
  const pid = helperOf(n);
  const helper = pid ? ownAndChildrenTicks(pid) : { own: 0, children: 0 };
  return { 'pacemaker-execd': execd.own / TICKS, agents: execd.children / TICKS, helper: helper.own / TICKS, "helper's children": helper.children / TICKS };
}

/** pacemaker-execd of node n: the one in that node's mount namespace. */
function execdOf(n: NodeId): number {
  const mnt = readFileSync(join(LAB_DIR, `node${n}`, 'mntns'), 'utf8').trim();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() === 'pacemaker-execd' && readlinkSync(`/proc/${e}/ns/mnt`) === mnt) return Number(e);
    } catch { /* gone */ }
  }
  throw new Error(`no pacemaker-execd on node${n}`);
}

function helperOf(n: NodeId): number | undefined {
  try {
    return Number(readFileSync(join(LAB_DIR, `node${n}`, 'ferry-serve.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds node n's monitor side has used so far (execd with its waited-for children, and the helper). */
function nodeCpuS(n: NodeId): number {
  const helper = helperOf(n);
  return (statTicks(execdOf(n)) + (helper ? statTicks(helper) : 0)) / TICKS;
}

async function measured<T>(what: string, fn: () => Promise<T>): Promise<{ what: string; wallS: number; cpuS: Record<string, number> }> {
  const before = [nodeCpuS(1), nodeCpuS(2)];
  const started = performance.now();
  await fn();
  const wallS = (performance.now() - started) / 1000;
  const cpuS = { node1: nodeCpuS(1) - (before[0] ?? 0), node2: nodeCpuS(2) - (before[1] ?? 0) };
  process.stdout.write(`${what}: ${wallS.toFixed(1)} s wall, CPU node1 ${cpuS.node1.toFixed(1)} s, node2 ${cpuS.node2.toFixed(1)} s\n`);
  return { what, wallS, cpuS };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `sc${i}`);
const allOn = async (list: string[], node: string) =>
  (await Promise.all(list.map((id) => resourceNodes(1, id)))).every((w) => w.length === 1 && w[0] === node) && settled();

async function createAll(list: string[], criu: string): Promise<void> {
  for (const id of list) {
    await createResource({
      id, monitorIntervalS: 10,
      params: { name: id, command: 'exec sleep 1000000', state_dir: SHARED_DIR, criu_binary: criu, authkey: join(LAB_DIR, 'authkey'), stop_timeout: '3' },
    });
  }
}

async function helper(n: NodeId, action: 'start' | 'stop'): Promise<void> {
  await execa('env', ['-u', 'NODE_OPTIONS', 'sh', LAB_SH, 'helper', String(n), action], { stdin: 'ignore' });
}

async function steadyMonitors(n: NodeId, label: string): Promise<{ label: string; node: string; percentOfCore: number; cpuS: number; windowS: number; parts: Record<string, number> }> {
  const before = nodeCpuS(n);
  const partsBefore = nodeCpuParts(n);
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const cpuS = nodeCpuS(n) - before;
  const partsAfter = nodeCpuParts(n);
  // in % of one core over the window
  const parts = Object.fromEntries(Object.entries(partsAfter).map(([k, v]) => [k, (100 * (v - (partsBefore[k] ?? 0))) / WINDOW_S]));
  const percentOfCore = (100 * cpuS) / WINDOW_S;
  process.stdout.write(`${MONITORED} monitored every 10 s for ${WINDOW_S} s, ${label}: node${n} CPU ${cpuS.toFixed(1)} s = ${percentOfCore.toFixed(2)} % of one core`
    + ` (${Object.entries(parts).map(([k, v]) => `${k} ${v.toFixed(2)} %`).join(', ')})\n`);
  return { label, node: `node${n}`, percentOfCore, cpuS, windowS: WINDOW_S, parts };
}

async function main(): Promise<void> {
  const criu = await criuForTests();
  await labUp();
  const phases: Awaited<ReturnType<typeof measured>>[] = [];
  const steady: Awaited<ReturnType<typeof steadyMonitors>>[] = [];
  try {
    await crm(1, ['crm_attribute', '--type', 'rsc_defaults', '--name', 'resource-stickiness', '--update', '100']);
    await crm(1, ['crm_attribute', '--type', 'crm_config', '--name', 'migration-limit', '--update', '2']);
    await standby('node2', true);
    const scale = ids(COUNT);
    phases.push(await measured(`start ${COUNT}`, async () => {
      await createAll(scale, criu);
      await waitFor(() => allOn(scale, 'node1'), { what: `${COUNT} started`, timeoutMs: 900_000, intervalMs: 500 });
    }));
    phases.push(await measured(`probe ${COUNT} (crm_resource --refresh)`, async () => {
      await crm(1, ['crm_resource', '--refresh']);
      await new Promise((r) => setTimeout(r, 2000));
      await waitFor(() => allOn(scale, 'node1'), { what: 'probes done', timeoutMs: 900_000, intervalMs: 500 });
    }));
    await standby('node2', false);
    await waitFor(settled, { what: 'idle', timeoutMs: 120_000 });
    phases.push(await measured(`drain ${COUNT} live (standby node1)`, async () => {
      await standby('node1', true);
      await waitFor(() => allOn(scale, 'node2'), { what: 'drained', timeoutMs: 1_800_000, intervalMs: 500 });
    }));
    // node1 stays in standby: the rest start on node2 beside the drained ones, and node2 is measured
    const all = ids(MONITORED);
    await createAll(all.slice(COUNT), criu);
    await waitFor(() => allOn(all, 'node2'), { what: `${MONITORED} on node2`, timeoutMs: 1_800_000, intervalMs: 1000 });
    // a monitor of each first, so that every container is registered with its interval
    await new Promise((r) => setTimeout(r, 15_000));
    steady.push(await steadyMonitors(2, 'helper keeping verdicts'));
    await helper(2, 'stop');
    steady.push(await steadyMonitors(2, 'no helper (every monitor starts Node.js)'));
    await helper(2, 'start');
  } finally {
    await labDown().catch((err: unknown) => process.stderr.write(`lab down: ${String(err)}\n`));
  }
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'node-scale.json'), `${JSON.stringify({ when: new Date().toISOString(), count: COUNT, monitored: MONITORED, windowS: WINDOW_S, phases, steady }, null, 2)}\n`);
  writeFileSync(join(out, 'node-scale.svg'), barChartSvg({
    title: `${MONITORED} containers monitored every 10 s: the node's CPU (% of one core)`, unit: '% of one core',
    categories: steady.map((s) => s.label),
    series: [{ name: 'CPU', values: steady.map((s) => Math.round(s.percentOfCore * 100) / 100) }],
  }));
  process.stdout.write('wrote bench/results/node-scale.json and node-scale.svg\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
