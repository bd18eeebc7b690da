/**
 * Where the downtime of a live migration on DRBD goes, step by step, in the guest lab (two QEMU guests with the
 * stock Debian kernel, real DRBD 8.4, Pacemaker moving the container with crm_resource --move):
 *   freeze+dump (source) | sync, umount, demote (source) | Pacemaker's hand-over (migrate_to ends, migrate_from
 *   starts) | promote, mount (target) | restore (target).
 * Under TCG emulation every figure is inflated several times over; the shares are what carries over.
 * usage: node dist/bench/drbd-handover.js [--moves 4]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestsDown, guestsUp } from '../test/guests/guests.js';
import { handoffOn, move, other, setUpDrbdContainer, summaryOn } from '../test/guests/drbd-container.js';
import { REPO } from '../test/lab/lab.js';
import { barChartSvg } from './svg.js';

const STEPS = ['dump', 'sync', 'umount', 'demote', 'pacemaker', 'promote', 'mount', 'restore', 'downtime'] as const;
type Step = typeof STEPS[number];

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const moves = Number(arg('moves', '4'));
  process.env.FERRY_GUESTS_DRBD_MB = '128';
  process.stdout.write('booting the guest lab...\n');
  await guestsUp();
  const samples: Record<Step, number>[] = [];
  try {
    const { home } = await setUpDrbdContainer();
    let at = home;
    for (let i = 0; i < moves; i += 1) {
      const to = other(at);
      await move(to);
      const s = await summaryOn(to);
      const h = await handoffOn(at);
      const source = (h.sync ?? 0) + (h.umount ?? 0) + (h.demote ?? 0);
      const target = (s.storageMs?.promote ?? 0) + (s.storageMs?.mount ?? 0);
      const sample: Record<Step, number> = {
        dump: s.dumpMs ?? NaN, sync: h.sync ?? NaN, umount: h.umount ?? NaN, demote: h.demote ?? NaN,
        pacemaker: (s.handoverMs ?? NaN) - source - target,
        promote: s.storageMs?.promote ?? NaN, mount: s.storageMs?.mount ?? NaN, restore: Math.round(s.restoreMs ?? NaN), downtime: s.downtimeMs,
      };
      samples.push(sample);
      process.stdout.write(`move ${i + 1} (${s.type}) to guest${to}: ${JSON.stringify(sample)}\n`);
      at = to;
    }
  } finally {
    await guestsDown();
  }
  const row = Object.fromEntries(STEPS.map((k) => [k, median(samples.map((x) => x[k]))])) as Record<Step, number>;
  const share = (v: number) => `${((100 * v) / row.downtime).toFixed(0).padStart(3)} %`;
  process.stdout.write(`\nDRBD hand-over, median of ${moves} moves (TCG emulation: absolute times inflated)\n`
    + `step        |       ms | share of downtime\n`
    + STEPS.map((k) => `${k.padEnd(11)} | ${String(row[k]).padStart(8)} | ${k === 'downtime' ? '' : share(row[k])}`).join('\n') + '\n');
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'drbd-handover.json'), `${JSON.stringify({ when: new Date().toISOString(), moves, median: row, samples }, null, 2)}\n`);
  writeFileSync(join(out, 'drbd-handover.svg'), barChartSvg({
    title: `Downtime of a live migration on DRBD, step by step (median of ${moves}, QEMU TCG guests)`,
    unit: 'milliseconds',
    categories: STEPS.filter((k) => k !== 'downtime'),
    series: [{ name: 'median', values: STEPS.filter((k) => k !== 'downtime').map((k) => row[k]) }],
  }));
  process.stdout.write('wrote bench/results/drbd-handover.json and drbd-handover.svg\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
