/**
 * The four migration types side by side, in the QEMU guest lab (the only place here where iterative can run:
 * soft-dirty tracking), under Pacemaker: a container on storage=shared (9p) holding SIZE MiB and dirtying them at
 * a fixed rate is moved guest1 -> guest2 with crm_resource --move, once per type and round, rounds interleaved
 * (floor, simple, iterative, lazy, iterative+lazy, then again), so emulation noise hits every type alike.
 *   downtime  from the migration record: freeze start on the source to the resumed tree on the target;
 *   total     crm_resource --move until the cluster is idle with the container on guest2 (for the lazy types that
 *             includes the page server's wait for the last page);
 *   floor     a simple migration of the same tree holding no memory (what any migration costs at least).
 * The guests are TCG-emulated: absolute times are inflated several times over; the ratios are what matter.
 * usage: node dist/bench/guest-types.js [--sizes 64,256] [--rounds 3] [--dirty MiBps]   (hold the guest-lab lock:
 *        flock /tmp/ferry-guests.lock node dist/bench/guest-types.js)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestsDown, guestsUp } from '../test/guests/guests.js';
import { move } from '../test/guests/drbd-container.js';
import { installWorkload, placeContainer, removeContainer, waitSummary } from '../test/guests/shared-container.js';
import { REPO } from '../test/lab/lab.js';
import { MIGRATION_TYPES, type MigrationType } from '../src/settings/params.js';
import { barChartSvg } from './svg.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const sizes = arg('sizes', '64,256').split(',').map(Number);
const rounds = Number(arg('rounds', '3'));
const dirty = Number(arg('dirty', '4'));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] ?? NaN : Math.round((((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2) * 10) / 10;
};

interface Run { downtimeMs: number; totalMs: number; rounds: number; lazyPagesFetched: number | undefined; pagesRestored: number | undefined }
interface TypeFigures { downtimeMs: number; totalMs: number; rounds: number; lazyPagesFetched: number | undefined; pagesRestored: number | undefined; vsSimple: number; vsFloor: number }
interface Row { sizeMiB: number; floorMs: number; types: Record<MigrationType, TypeFigures> }

async function once(type: MigrationType, ballastMiB: number): Promise<Run> {
  await placeContainer({ type, ballastMiB, dirtyMiBps: ballastMiB ? dirty : 0 }, 1);
  const started = performance.now();
  await move(2);
  const totalMs = Math.round(performance.now() - started);
  const s = await waitSummary();
  await removeContainer();
  if (s.type !== type) throw new Error(`asked for ${type}, migrated as ${s.type}`);
  return { downtimeMs: s.downtimeMs ?? NaN, totalMs, rounds: s.precopyRounds?.length ?? 0, lazyPagesFetched: s.lazyPagesFetched, pagesRestored: s.pagesRestored };
}

const medianOf = (runs: Run[], pick: (r: Run) => number | undefined) => {
  const xs = runs.map(pick).filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
};

async function measure(sizeMiB: number): Promise<Row> {
  const floor: number[] = [];
  const byType = new Map<MigrationType, Run[]>(MIGRATION_TYPES.map((t) => [t, []]));
  for (let r = 0; r < rounds; r += 1) {
    floor.push((await once('simple', 0)).downtimeMs);
    for (const type of MIGRATION_TYPES) {
      const run = await once(type, sizeMiB);
      byType.get(type)?.push(run);
      process.stdout.write(`${sizeMiB} MiB round ${r + 1} ${type}: ${JSON.stringify(run)}\n`);
    }
  }
  const floorMs = median(floor);
  const simpleMs = medianOf(byType.get('simple') ?? [], (x) => x.downtimeMs) ?? NaN;
  const types = Object.fromEntries(MIGRATION_TYPES.map((type) => {
    const runs = byType.get(type) ?? [];
    const downtimeMs = medianOf(runs, (x) => x.downtimeMs) ?? NaN;
    const ratio = (v: number) => Math.round((downtimeMs / v) * 100) / 100;
    return [type, {
      downtimeMs, totalMs: medianOf(runs, (x) => x.totalMs) ?? NaN, rounds: medianOf(runs, (x) => x.rounds) ?? 0,
      lazyPagesFetched: medianOf(runs, (x) => x.lazyPagesFetched), pagesRestored: medianOf(runs, (x) => x.pagesRestored),
      vsSimple: ratio(simpleMs), vsFloor: ratio(floorMs),
    }];
  })) as Record<MigrationType, TypeFigures>;
  return { sizeMiB, floorMs, types };
}

function table(rows: Row[]): string {
  const header = `migration types in the QEMU guests (TCG emulation: absolute times inflated, the ratios are what matter), `
    + `median of ${rounds}, dirtying ${dirty} MiB/s, under Pacemaker, storage=shared on 9p`;
  const cols = 'RSS MiB | floor | type | downtime | ×simple | ×floor | total | rounds | restored pages | fetched lazily';
  const lines = rows.flatMap((r) => MIGRATION_TYPES.map((type) => {
    const f = r.types[type];
    return [String(r.sizeMiB).padStart(7), `${r.floorMs} ms`, type.padEnd(14), `${f.downtimeMs} ms`, `${f.vsSimple}`, `${f.vsFloor}`,
      `${(f.totalMs / 1000).toFixed(1)} s`, String(f.rounds), String(f.pagesRestored ?? '-'), String(f.lazyPagesFetched ?? '-')].join(' | ');
  }));
  return `${header}\n${cols}\n${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the guest lab needs root');
  process.stdout.write('bringing the guests up...\n');
  await guestsUp();
  const rows: Row[] = [];
  try {
    installWorkload();
    for (const size of sizes) rows.push(await measure(size));
  } finally {
    await guestsDown();
  }
  process.stdout.write(`\n${table(rows)}`);
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'guest-types.json'), `${JSON.stringify({ when: new Date().toISOString(), emulation: 'TCG', rounds, dirtyMiBps: dirty, rows }, null, 2)}\n`);
  writeFileSync(join(out, 'guest-types.svg'), barChartSvg({
    title: `Downtime per migration type in QEMU/TCG guests (inflated; compare ratios), median of ${rounds}`,
    unit: 'milliseconds',
    categories: rows.map((r) => `${r.sizeMiB} MiB`),
    series: [
      { name: 'floor (no memory)', values: rows.map((r) => r.floorMs) },
      ...MIGRATION_TYPES.map((type) => ({ name: type, values: rows.map((r) => r.types[type].downtimeMs) })),
    ],
  }));
  process.stdout.write('wrote bench/results/guest-types.json and guest-types.svg\n');
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  void guestsDown().finally(() => process.exit(1));
});
