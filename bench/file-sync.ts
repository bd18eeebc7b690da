/**
 * What storage=none's final file sync adds to the downtime of a container whose files move with it (an LXC root
 * filesystem): the walk of the tree (proportional to its paths), the diff, and sending what changed through a
 * real `ferry serve` on loopback (TLS-PSK, tar on both sides), for trees of several sizes with a few files
 * changed. Beside it, in the same rounds: a bare `tar -c | tar -x` of the same changed paths (the floor for
 * moving them without Ferry). Rounds are interleaved; medians printed, bench/results/file-sync.{json,svg} written.
 * usage: node dist/bench/file-sync.js [--rounds 5] [--sizes 5000,20000,50000] [--changed 20]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { serve } from '../src/helper/server.js';
import { sendFiles } from '../src/helper/client.js';
import { diffTrees, walkTree } from '../src/storage/file-tree/manifest.js';
import { tarOf } from '../src/storage/file-tree/tar.js';
import { REPO } from '../test/lab/lab.js';
import { barChartSvg } from './svg.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const rounds = Number(arg('rounds', '5'));
const sizes = arg('sizes', '5000,20000,50000').split(',').map(Number);
const changedCount = Number(arg('changed', '20'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function makeTree(root: string, files: number): void {
  const perDir = 100;
  const body = Buffer.alloc(4096, 1);
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${Math.floor(i / perDir)}`);
    if (i % perDir === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}`), body);
  }
}

function touchSome(root: string, files: number, round: number): void {
  for (let k = 0; k < changedCount; k++) {
    const i = (k * 7919 + round * 31) % files;
    writeFileSync(join(root, `d${Math.floor(i / 100)}`, `f${i}`), randomBytes(4096));
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (tar keeps owners)');
  const base = mkdtempSync(join(tmpdir(), 'ferry-bench-files-'));
  const key = randomBytes(32);
  mkdirSync(join(base, 'state'));
  const helper = await serve({ addresses: ['127.0.0.1'], port: 0, key, dir: join(base, 'state'), maxBytes: 1 << 30, node: 'bench', criuVersion: undefined, idleTimeoutMs: 30_000 });
  const peer = { host: '127.0.0.1', port: helper.ports[0] ?? 0, key, identity: 'bench', timeoutMs: 30_000 };
  const results: { paths: number; walkMs: number[]; diffMs: number[]; sendMs: number[]; bareMs: number[] }[] = [];
  try {
    for (const files of sizes) {
      const root = join(base, `tree-${files}`);
      mkdirSync(root);
      makeTree(root, files);
      const id = `20261202000000-b${files}`;
      await sendFiles(peer, 'bench', id, root, true, [], tarOf(root, undefined, false));
      results.push({ paths: walkTree(root).size, walkMs: [], diffMs: [], sendMs: [], bareMs: [] });
    }
    for (let round = 0; round < rounds; round++) {
      for (const [i, files] of sizes.entries()) {
        const root = join(base, `tree-${files}`);
        const r = results[i]!;
        const baseline = walkTree(root);
        touchSome(root, files, round);
        const t0 = performance.now();
        const now = walkTree(root);
        const t1 = performance.now();
        const diff = diffTrees(baseline, now);
        const t2 = performance.now();
        await sendFiles(peer, 'bench', `20261202000000-b${files}`, root, false, diff.removed, tarOf(root, diff.changed, false));
        const t3 = performance.now();
        const bareDir = join(base, `bare-${files}`);
        rmSync(bareDir, { recursive: true, force: true });
        mkdirSync(bareDir);
        const b0 = performance.now();
        await execa('sh', ['-c', 'tar -c -f - -C "$1" --null --no-recursion -T - | tar -x -f - -C "$2"', 'sh', root, bareDir], { input: `${diff.changed.join('\0')}\0` });
        const b1 = performance.now();
        r.walkMs.push(t1 - t0); r.diffMs.push(t2 - t1); r.sendMs.push(t3 - t2); r.bareMs.push(b1 - b0);
      }
    }
  } finally {
    await helper.close();
    rmSync(base, { recursive: true, force: true });
  }
  const rows = results.map((r) => ({
    paths: r.paths, walk: median(r.walkMs), diff: median(r.diffMs), send: median(r.sendMs), total: median(r.walkMs.map((w, i) => w + (r.diffMs[i] ?? 0) + (r.sendMs[i] ?? 0))), bare: median(r.bareMs),
  }));
  process.stdout.write(`final sync of ${changedCount} changed 4 KiB files, medians of ${rounds} interleaved rounds (ms)\n`);
  process.stdout.write('paths     walk    diff    send   total | bare tar|tar of the same paths\n');
  for (const r of rows) {
    process.stdout.write(`${String(r.paths).padStart(6)} ${r.walk.toFixed(1).padStart(7)} ${r.diff.toFixed(1).padStart(7)} ${r.send.toFixed(1).padStart(7)} ${r.total.toFixed(1).padStart(7)} | ${r.bare.toFixed(1).padStart(7)}\n`);
  }
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'file-sync.json'), `${JSON.stringify({ changedFiles: changedCount, rounds, rows }, null, 2)}\n`);
  writeFileSync(join(out, 'file-sync.svg'), barChartSvg({
    title: `storage=none final file sync (${changedCount} files changed), median of ${rounds}`, unit: 'ms',
    categories: rows.map((r) => `${r.paths} paths`),
    series: [
      { name: 'walk', values: rows.map((r) => r.walk) }, { name: 'diff', values: rows.map((r) => r.diff) },
      { name: 'send (helper, TLS, tar)', values: rows.map((r) => r.send) }, { name: 'bare tar | tar', values: rows.map((r) => r.bare) },
    ],
  }));
  process.stdout.write('wrote bench/results/file-sync.json and file-sync.svg\n');
}

await main();
