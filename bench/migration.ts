/**
 * The migration types versus a cold move, side by side in one run, inside the two-node lab (agent run as
 * Pacemaker would run it, without Pacemaker's scheduling in between, so the figures are the mechanism's own):
 *   simple  migrate_to on node1 + migrate_from on node2; downtime from the migration record (freeze start on the
 *           source to resumed tree on the target) and the wall time of both actions;
 *   lazy    the same with migration_type=lazy: downtime until the tree runs on node2, and the time until its
 *           last page had arrived (node2's monitor completes the record);
 *   cold    stop on node1 + start on node2 until the workload counts again (its state is lost);
 *   floor   a simple migration of the same tree holding no memory (what any migration costs at least).
 * iterative cannot run on this kernel (no soft-dirty tracking); the guest lab measures it.
 * usage: node dist/bench/migration.js [--sizes 64,256,1024] [--rounds 3] [--dirty MiBps]
 */
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, mustAgent } from '../test/lab/agent-in-node.js';
import { labDown, labUp, LAB_DIR, REPO } from '../test/lab/lab.js';
import { barChartSvg } from './svg.js';
import { criuForTests } from '../test/lab/criu-for-tests.js';
import { readCounter } from '../test/lab/scenario.js';

interface Row { size: number; floorMs: number; liveDowntimeMs: number; liveTotalMs: number; dumpMs: number; restoreMs: number; lazyDowntimeMs: number; lazyAllMemoryMs: number; coldMs: number; mib: number }

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const sizes = arg('sizes', '64,256,1024').split(',').map(Number);
const rounds = Number(arg('rounds', '3'));
const dirty = arg('dirty', '0');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;



async function waitCounting(file: string, above: number, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = readCounter(file)?.value;
    if (c !== undefined && c > above) return c;
    if (Date.now() > until) throw new Error(`workload did not count past ${above} in ${file}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function params(name: string, sizeMiB: number, criu: string, counterFile: string, type = 'simple'): Record<string, string> {
  return {
    name, criu_binary: criu, state_dir: join(LAB_DIR, 'shared'), migration_type: type, migration_type_strict: 'true', stop_timeout: '2',
    bridge: 'br0', ip: '10.78.0.90/24', authkey: join(LAB_DIR, 'authkey'),
    command: `exec /usr/bin/python3 ${join(REPO, 'bench', 'workload', 'hold.py')} ${sizeMiB} ${dirty} ${counterFile}`,
  };
}


const readSummary = (name: string) => JSON.parse(readFileSync(join(LAB_DIR, 'shared', name, 'last-migration.json'), 'utf8'));

async function liveOnce(size: number, criu: string, round: number, type = 'simple') {
  const name = `bench-${type}-${size}-${round}`;
  const file = join(LAB_DIR, 'shared', `${name}.count`);
  const p = params(name, size, criu, file, type);
  await mustAgent(1, 'start', p);
  const before = await waitCounting(file, 2);
  const m = await migrate(1, 2, p);
  const after = await waitCounting(file, before);
  let summary = readSummary(name);
  // lazy: node2's monitor notices the last page and completes the figures; the source's stop then lets go
  while (type === 'lazy' && summary.allMemoryMs === undefined) {
    await mustAgent(2, 'monitor', p);
    summary = readSummary(name);
    if (summary.allMemoryMs === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  if (type === 'lazy') await mustAgent(1, 'stop', p);
  await mustAgent(2, 'stop', p);
  rmSync(join(LAB_DIR, 'shared', name), { recursive: true, force: true });
  rmSync(file, { force: true });
  if (after < before) throw new Error(`counter went back from ${before} to ${after}`);
  return { downtime: summary.downtimeMs as number, total: m.totalMs, dump: summary.dumpMs as number, restore: summary.restoreMs as number,
    mib: (summary.bytesWritten ?? 0) / 1048576, allMemory: (summary.allMemoryMs ?? NaN) as number };
}

async function coldOnce(size: number, criu: string, round: number) {
  const name = `bench-cold-${size}-${round}`;
  const file = join(LAB_DIR, 'shared', `${name}.count`);
  const p = params(name, size, criu, file);
  await mustAgent(1, 'start', p);
  await waitCounting(file, 2);
  const started = performance.now();
  await mustAgent(1, 'stop', p);
  rmSync(file, { force: true });
  await mustAgent(2, 'start', p);
  await waitCounting(file, 0);
  const ms = performance.now() - started;
  await mustAgent(2, 'stop', p);
  rmSync(file, { force: true });
  return ms;
}

async function main(): Promise<void> {
  const criu = await criuForTests();
  process.stdout.write(`bringing the lab up (CRIU ${criu})...\n`);
  await labUp();
  const rows: Row[] = [];
  try {
    for (const size of sizes) {
      const floor: number[] = [], live: number[] = [], total: number[] = [], dump: number[] = [], restore: number[] = [], cold: number[] = [], mib: number[] = [];
      const lazy: number[] = [], lazyAll: number[] = [];
      for (let r = 0; r < rounds; r += 1) {
        // interleaved, so machine noise hits all alike
        floor.push((await liveOnce(0, criu, r)).downtime);
        const l = await liveOnce(size, criu, r);
        live.push(l.downtime); total.push(l.total); dump.push(l.dump); restore.push(l.restore); mib.push(l.mib);
        const z = await liveOnce(size, criu, r, 'lazy');
        lazy.push(z.downtime); lazyAll.push(z.allMemory);
        cold.push(await coldOnce(size, criu, r));
      }
      const row = { size, floorMs: median(floor), liveDowntimeMs: median(live), liveTotalMs: Math.round(median(total)), dumpMs: median(dump), restoreMs: median(restore),
        lazyDowntimeMs: median(lazy), lazyAllMemoryMs: median(lazyAll), coldMs: Math.round(median(cold)), mib: Math.round(median(mib)) };
      rows.push(row);
      process.stdout.write(`${size} MiB: ${JSON.stringify(row)}\n`);
    }
  } finally {
    await labDown();
  }
  const header = 'RSS MiB | dumped MiB | floor downtime | simple downtime | (dump / restore) | simple total | lazy downtime | lazy all memory | cold move';
  const ms = (v: number, w: number) => `${String(v).padStart(w)} ms`;
  const lines = rows.map((r) => `${String(r.size).padStart(7)} | ${String(r.mib).padStart(10)} | ${ms(r.floorMs, 11)} | ${ms(r.liveDowntimeMs, 12)} | ${String(r.dumpMs).padStart(6)} / ${ms(r.restoreMs, 6)} | ${ms(r.liveTotalMs, 9)} | ${ms(r.lazyDowntimeMs, 10)} | ${ms(r.lazyAllMemoryMs, 12)} | ${ms(r.coldMs, 6)}`);
  process.stdout.write(`\nlive migration types vs cold move (median of ${rounds}, dirtying ${dirty} MiB/s)\n${header}\n${lines.join('\n')}\n`);
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'migration.json'), `${JSON.stringify({ when: new Date().toISOString(), rounds, dirty, rows }, null, 2)}\n`);
  writeFileSync(join(out, 'migration.svg'), barChartSvg({
    title: `Service interruption: simple and lazy live migration vs cold move, median of ${rounds}`,
    unit: 'milliseconds',
    categories: rows.map((r) => `${r.size} MiB`),
    series: [
      { name: 'floor (no memory)', values: rows.map((r) => r.floorMs) },
      { name: 'simple downtime', values: rows.map((r) => r.liveDowntimeMs) },
      { name: 'lazy downtime', values: rows.map((r) => r.lazyDowntimeMs) },
      { name: 'cold move (state lost)', values: rows.map((r) => r.coldMs) },
    ],
  }));
  process.stdout.write(`wrote bench/results/migration.json and migration.svg\n`);
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  void labDown().finally(() => process.exit(1));
});
