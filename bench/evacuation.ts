/**
 * Draining a node (standby) under real Pacemaker: time until N containers of 64 MiB have left node1, with
 * migration-limit 1 and 2 (live migrations at once), side by side with the same set moved by stop and start
 * (allow-migrate=false). One run, interleaved by N.
 * usage: node dist/bench/evacuation.js [--counts 1,5,10] [--size 64]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crm, labDown, labUp, REPO, resourceNodes, SHARED_DIR, waitFor } from '../test/lab/lab.js';
import { createResource, deleteResource, settled, standby } from '../test/lab/cluster.js';
import { containerResource, criuForTests, readCounter } from '../test/lab/scenario.js';
import { barChartSvg } from './svg.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const counts = arg('counts', '1,5,10').split(',').map(Number);
const size = Number(arg('size', '64'));
type Mode = 'live, migration-limit=1' | 'live, migration-limit=2' | 'stop+start';
const MODES: Mode[] = ['live, migration-limit=1', 'live, migration-limit=2', 'stop+start'];

async function drain(n: number, mode: Mode, criu: string): Promise<{ ms: number; restarted: number }> {
  const ids = Array.from({ length: n }, (_, i) => `ev${i}`);
  await crm(1, ['crm_attribute', '--type', 'crm_config', '--name', 'migration-limit', '--update', mode.endsWith('2') ? '2' : '1']);
  for (const [i, id] of ids.entries()) {
    const counter = join(SHARED_DIR, `${id}.count`);
    const r = containerResource(id, `10.78.0.${120 + i}`, criu, {
      command: `exec /usr/bin/python3 ${join(REPO, 'bench', 'workload', 'hold.py')} ${size} 0 ${counter}`,
    });
    await createResource({ ...r, allowMigrate: mode !== 'stop+start' });
  }
  await crm(1, ['crm_resource', '--wait', '--timeout', '300']).catch(() => undefined);
  // everything on node1 first (resources spread over both nodes when created)
  await standby('node2', true);
  await waitFor(async () => (await Promise.all(ids.map((id) => resourceNodes(1, id)))).every((w) => w.length === 1 && w[0] === 'node1') && (await settled()),
    { what: 'all on node1', timeoutMs: 300_000, intervalMs: 300 });
  await standby('node2', false);
  await waitFor(settled, { what: 'idle', timeoutMs: 120_000 });
  await waitFor(() => ids.every((id) => readCounter(join(SHARED_DIR, `${id}.count`)) !== undefined), { what: 'counting', timeoutMs: 60_000 });
  const before = ids.map((id) => readCounter(join(SHARED_DIR, `${id}.count`))?.instance);
  const started = performance.now();
  await standby('node1', true);
  await waitFor(async () => (await Promise.all(ids.map((id) => resourceNodes(1, id)))).every((w) => w.length === 1 && w[0] === 'node2') && (await settled()),
    { what: `${n} containers drained`, timeoutMs: 600_000, intervalMs: 200 });
  const ms = Math.round(performance.now() - started);
  await new Promise((r) => setTimeout(r, 500));
  const restarted = ids.filter((id, i) => readCounter(join(SHARED_DIR, `${id}.count`))?.instance !== before[i]).length;
  await standby('node1', false);
  for (const id of ids) await deleteResource(id);
  return { ms, restarted };
}

async function main(): Promise<void> {
  const criu = await criuForTests();
  await labUp();
  const results: { n: number; mode: Mode; ms: number; restarted: number }[] = [];
  try {
    await crm(1, ['crm_attribute', '--type', 'rsc_defaults', '--name', 'resource-stickiness', '--update', '100']);
    for (const n of counts) {
      for (const mode of MODES) {
        const r = await drain(n, mode, criu);
        results.push({ n, mode, ...r });
        process.stdout.write(`N=${n} ${mode}: ${r.ms} ms, ${r.restarted} restarted\n`);
      }
    }
  } finally {
    await labDown();
  }
  process.stdout.write(`\ndrain node1 (standby), containers of ${size} MiB\n  N | ${MODES.map((m) => m.padStart(24)).join(' | ')}\n`);
  for (const n of counts) {
    process.stdout.write(`${String(n).padStart(3)} | ${MODES.map((m) => {
      const r = results.find((x) => x.n === n && x.mode === m);
      return `${r?.ms ?? '?'} ms${r?.restarted ? ` (${r.restarted} restarted)` : ''}`.padStart(24);
    }).join(' | ')}\n`);
  }
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'evacuation.json'), `${JSON.stringify({ when: new Date().toISOString(), size, results }, null, 2)}\n`);
  writeFileSync(join(out, 'evacuation.svg'), barChartSvg({
    title: `Time to drain a node of N containers (${size} MiB each)`,
    unit: 'milliseconds',
    categories: counts.map((n) => `N=${n}`),
    series: MODES.map((m) => ({ name: m, values: counts.map((n) => results.find((x) => x.n === n && x.mode === m)?.ms) })),
  }));
  process.stdout.write('wrote bench/results/evacuation.json and evacuation.svg\n');
}

main().catch(async (err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await labDown().catch(() => undefined);
  process.exit(1);
});
