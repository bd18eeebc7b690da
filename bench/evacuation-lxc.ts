/**
 * Draining a node of N small LXC containers under real Pacemaker (crm node standby node1): live, with
 * allow-migrate=true and migration-limit=N (node-action-limit, batch-limit and load-threshold raised too) so that
 * Pacemaker runs every migrate_to at once (Ferry's dumps of LXC
 * containers take no node-wide CRIU lock: src/criu/criu.ts), against the same set moved by stop and start
 * (allow-migrate=false). Per drain: the wall time from the standby until every container runs on node2 and the
 * cluster is idle, each container's own longest pause (bench/pause-watch.ts: its counter's ticks; a restart
 * counts from the old process's last tick to the new one's first), and, for the live drain, how many CRIU dumps
 * ran at the same time on node1 (distinct `criu dump --tree PID` processes, polled every 25 ms).
 * 'native live' drains the same number of native containers (the same workload, no root filesystem) live with the
 * same limits in the same run: their dumps queue on the node's CRIU lock. bench/evacuation.ts is the native
 * version with 64 MiB containers and migration-limit 1 and 2.
 * usage: node dist/bench/evacuation-lxc.js [--count 10] [--rounds 1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { crm, labDown, labUp, REPO, resourceNodes, waitFor } from '../test/lab/lab.js';
import { createResource, deleteResource, settled, standby } from '../test/lab/cluster.js';
import { criuForTests } from '../test/lab/criu-for-tests.js';
import { lxcResource, prepareLxcContainer } from '../test/lab/lxc-container.js';
import { containerResource, counterFile } from '../test/lab/scenario.js';
import type { ContainerResource } from '../test/lab/cluster.js';
import { barChartSvg } from './svg.js';
import { ticksAfter, watchPauses } from './pause-watch.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const count = Number(arg('count', '10'));
const rounds = Number(arg('rounds', '1'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const MODES = ['live', 'stop+start', 'native live'] as const;
type Mode = typeof MODES[number];

/** How many CRIU dumps of distinct trees run right now (the nodes share this machine's PID namespace). */
async function dumpsRunning(): Promise<number> {
  const r = await execa('pgrep', ['-a', '-f', 'criu dump --tree'], { reject: false });
  // CRIU itself (its wrapper, ld.so), not a flock still waiting to start it (native: flock ... criu dump --tree PID)
  return new Set(String(r.stdout).split('\n').filter((l) => !/^\d+ \S*flock /.test(l))
    .flatMap((l) => / dump --tree (\d+)/.exec(l)?.[1] ?? [])).size;
}

interface Drain { mode: Mode; ms: number; pauses: number[]; restarted: number; maxConcurrentDumps: number }

/** A container of the drain: its resource and where its workload writes its counter. */
interface Ct { id: string; resource: ContainerResource; counter: string }

async function drain(mode: Mode, cts: Ct[]): Promise<Drain> {
  for (const c of cts) await createResource({ ...c.resource, allowMigrate: mode !== 'stop+start', migrateTimeoutS: 300, monitorIntervalS: 20 });
  // everything on node1 first (Pacemaker spreads them when they are created)
  await standby('node2', true);
  await waitFor(async () => (await Promise.all(cts.map((c) => resourceNodes(1, c.id)))).every((w) => w.length === 1 && w[0] === 'node1') && (await settled()),
    { what: 'all on node1', timeoutMs: 600_000, intervalMs: 500 });
  await standby('node2', false);
  await waitFor(settled, { what: 'idle', timeoutMs: 120_000 });
  const watches = cts.map((c) => watchPauses(() => c.counter));
  await Promise.all(watches.map((w) => ticksAfter(w, 3)));
  for (const w of watches) w.reset();
  let maxDumps = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      maxDumps = Math.max(maxDumps, await dumpsRunning());
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const started = performance.now();
  await standby('node1', true);
  await waitFor(async () => (await Promise.all(cts.map((c) => resourceNodes(1, c.id)))).every((w) => w.length === 1 && w[0] === 'node2') && (await settled()),
    { what: `${cts.length} containers drained`, timeoutMs: 900_000, intervalMs: 200 });
  const ms = Math.round(performance.now() - started);
  polling = false;
  await poller;
  await Promise.all(watches.map((w) => ticksAfter(w, 3)));
  const result = { mode, ms, pauses: watches.map((w) => w.longestPauseMs()), restarted: watches.filter((w) => w.restarted()).length, maxConcurrentDumps: maxDumps };
  for (const w of watches) w.stop();
  await standby('node1', false);
  for (const c of cts) await deleteResource(c.id);
  return result;
}

async function main(): Promise<void> {
  const criu = await criuForTests();
  process.stdout.write(`bringing the lab up (CRIU ${criu})...\n`);
  await labUp();
  const results: Drain[] = [];
  try {
    await crm(1, ['crm_attribute', '--type', 'rsc_defaults', '--name', 'resource-stickiness', '--update', '100']);
    // migration-limit lets N live migrations run at once; the controller's own job limits (2 per core, fewer
    // when it sees the machine loaded, which other labs make it) would otherwise cut them down to a few
    for (const [name, value] of [['migration-limit', count], ['node-action-limit', 3 * count], ['batch-limit', 3 * count], ['load-threshold', '10000%']] as const) {
      await crm(1, ['crm_attribute', '--type', 'crm_config', '--name', name, '--update', String(value)]);
    }
    const lxc: Ct[] = [];
    const native: Ct[] = [];
    for (let i = 0; i < count; i += 1) {
      const c = await prepareLxcContainer(`evl${i}`, `10.78.0.${140 + i}`, `02:00:0a:4e:00:${(0x8c + i).toString(16)}`);
      lxc.push({ id: c.id, resource: lxcResource(c.id, criu), counter: join(c.rootfs, 'srv', 'ferry', 'counter') });
      native.push({ id: `evn${i}`, resource: containerResource(`evn${i}`, `10.78.0.${160 + i}`, criu), counter: counterFile(`evn${i}`) });
    }
    for (let r = 0; r < rounds; r += 1) {
      for (const mode of MODES) {
        const d = await drain(mode, mode === 'native live' ? native : lxc);
        results.push(d);
        process.stdout.write(`${mode}: drained in ${d.ms} ms, pause median ${median(d.pauses)} max ${Math.max(...d.pauses)} ms, ${d.restarted} restarted, at most ${d.maxConcurrentDumps} CRIU dumps at once\n`);
      }
    }
  } finally {
    await labDown();
  }
  const rows = MODES.map((mode) => {
    const ds = results.filter((d) => d.mode === mode);
    const pauses = ds.flatMap((d) => d.pauses);
    return { mode, drainMs: median(ds.map((d) => d.ms)), pauseMedianMs: median(pauses), pauseMaxMs: Math.max(...pauses), restarted: Math.max(...ds.map((d) => d.restarted)), maxConcurrentDumps: Math.max(...ds.map((d) => d.maxConcurrentDumps)) };
  });
  process.stdout.write(`\ndrain node1 (standby) of ${count} containers (LXC; native for 'native live'), median of ${rounds} drains\n`
    + 'mode         | drain     | pause per container: median / max | restarted | CRIU dumps at once\n'
    + rows.map((r) => `${r.mode.padEnd(12)} | ${`${r.drainMs} ms`.padStart(9)} | ${`${r.pauseMedianMs} / ${r.pauseMaxMs} ms`.padStart(33)} | ${String(r.restarted).padStart(9)} | ${r.maxConcurrentDumps}`).join('\n') + '\n');
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'evacuation-lxc.json'), `${JSON.stringify({ when: new Date().toISOString(), count, rounds, migrationLimit: count, rows, results }, null, 2)}\n`);
  writeFileSync(join(out, 'evacuation-lxc.svg'), barChartSvg({
    title: `Draining a node of ${count} small containers under Pacemaker`,
    unit: 'milliseconds',
    categories: ['drain (wall)', 'pause per container (median)', 'pause per container (max)'],
    series: rows.map((r) => ({ name: r.mode === 'stop+start' ? 'lxc stop+start' : `${r.mode === 'live' ? 'lxc' : 'native'} live, migration-limit=${count}`, values: [r.drainMs, r.pauseMedianMs, r.pauseMaxMs] })),
  }));
  process.stdout.write('wrote bench/results/evacuation-lxc.json and evacuation-lxc.svg\n');
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  void labDown().finally(() => process.exit(1));
});
