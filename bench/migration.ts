/**
 * Live migration versus cold move, side by side in one run, inside the two-node lab (agent run as Pacemaker
 * would run it, without Pacemaker's scheduling in between, so the figures are the mechanism's own):
 *   live   migrate_to on node1 + migrate_from on node2 (simple type); downtime from the migration record
 *          (freeze start on the source to resumed tree on the target) and the wall time of both actions;
 *   cold   stop on node1 + start on node2 until the workload counts again (its state is lost);
 *   floor  a live migration of the same tree holding no memory (what any migration costs at least).
 * usage: node dist/bench/migration.js [--sizes 16,256,1024] [--rounds 3] [--dirty MiBps]
 */
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, mustAgent } from '../test/lab/agent-in-node.js';
import { labDown, labUp, LAB_DIR, REPO } from '../test/lab/lab.js';
import { barChartSvg } from './svg.js';
import { criuForTests } from '../test/lab/criu-for-tests.js';
import { readCounter } from '../test/lab/scenario.js';

interface Row { size: number; floorMs: number; liveDowntimeMs: number; liveTotalMs: number; dumpMs: number; restoreMs: number; coldMs: number; mib: number }

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const sizes = arg('sizes', '16,256,1024').split(',').map(Number);
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

function params(name: string, sizeMiB: number, criu: string, counterFile: string): Record<string, string> {
  return {
    name, criu_binary: criu, state_dir: join(LAB_DIR, 'shared'), migration_type: 'simple', stop_timeout: '2',
    bridge: 'br0', ip: '10.78.0.90/24',
    command: `exec /usr/bin/python3 ${join(REPO, 'bench', 'workload', 'hold.py')} ${sizeMiB} ${dirty} ${counterFile}`,
  };
}


async function liveOnce(size: number, criu: string, round: number) {
  const name = `bench-live-${size}-${round}`;
  const file = join(LAB_DIR, 'shared', `${name}.count`);
  const p = params(name, size, criu, file);
  await mustAgent(1, 'start', p);
  const before = await waitCounting(file, 2);
  const m = await migrate(1, 2, p);
  const after = await waitCounting(file, before);
  const summary = JSON.parse(readFileSync(join(LAB_DIR, 'shared', name, 'last-migration.json'), 'utf8'));
  await mustAgent(2, 'stop', p);
  rmSync(join(LAB_DIR, 'shared', name), { recursive: true, force: true });
  rmSync(file, { force: true });
  if (after < before) throw new Error(`counter went back from ${before} to ${after}`);
  return { downtime: summary.downtimeMs as number, total: m.totalMs, dump: summary.dumpMs as number, restore: summary.restoreMs as number, mib: (summary.bytesWritten ?? 0) / 1048576 };
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
      for (let r = 0; r < rounds; r += 1) {
        // interleaved, so machine noise hits all three alike
        floor.push((await liveOnce(0, criu, r)).downtime);
        const l = await liveOnce(size, criu, r);
        live.push(l.downtime); total.push(l.total); dump.push(l.dump); restore.push(l.restore); mib.push(l.mib);
        cold.push(await coldOnce(size, criu, r));
      }
      const row = { size, floorMs: median(floor), liveDowntimeMs: median(live), liveTotalMs: Math.round(median(total)), dumpMs: median(dump), restoreMs: median(restore), coldMs: Math.round(median(cold)), mib: Math.round(median(mib)) };
      rows.push(row);
      process.stdout.write(`${size} MiB: ${JSON.stringify(row)}\n`);
    }
  } finally {
    await labDown();
  }
  const header = 'RSS MiB | dumped MiB | floor downtime | live downtime | (dump / restore) | live total | cold move';
  const lines = rows.map((r) => `${String(r.size).padStart(7)} | ${String(r.mib).padStart(10)} | ${String(r.floorMs).padStart(11)} ms | ${String(r.liveDowntimeMs).padStart(10)} ms | ${String(r.dumpMs).padStart(6)} / ${String(r.restoreMs).padStart(6)} ms | ${String(r.liveTotalMs).padStart(7)} ms | ${String(r.coldMs).padStart(6)} ms`);
  process.stdout.write(`\nsimple live migration vs cold move (median of ${rounds}, dirtying ${dirty} MiB/s)\n${header}\n${lines.join('\n')}\n`);
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'migration.json'), `${JSON.stringify({ when: new Date().toISOString(), rounds, dirty, rows }, null, 2)}\n`);
  writeFileSync(join(out, 'migration.svg'), barChartSvg({
    title: `Service interruption: live migration (simple) vs cold move, median of ${rounds}`,
    unit: 'milliseconds',
    categories: rows.map((r) => `${r.size} MiB`),
    series: [
      { name: 'floor (no memory)', values: rows.map((r) => r.floorMs) },
      { name: 'live downtime', values: rows.map((r) => r.liveDowntimeMs) },
      { name: 'cold move (state lost)', values: rows.map((r) => r.coldMs) },
    ],
  }));
  process.stdout.write(`wrote bench/results/migration.json and migration.svg\n`);
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  void labDown().finally(() => process.exit(1));
});
