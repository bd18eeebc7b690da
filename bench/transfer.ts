/**
 * Image transfer over the lab's dedicated migration link (mn0, 10.79.0.0/24): the ferry helper (TLS-PSK,
 * written to disk on the receiver) versus a raw socat copy of the same bytes over the same link to the same
 * disk, interleaved in one run. The ratio is the figure. mn0's byte counters show the traffic took that link.
 * usage: node dist/bench/transfer.js [--mib 256] [--rounds 3]
 */
import { mkdirSync, writeFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { labDown, labUp, LAB_DIR, LAB_SH, nodeExec, REPO } from '../test/lab/lab.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const mib = Number(arg('mib', '256'));
const rounds = Number(arg('rounds', '3'));
const FERRY = join(REPO, 'bin', 'ferry');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function mn0Bytes(): Promise<number> {
  const r = await nodeExec(1, 'cat', ['/sys/class/net/mn0/statistics/tx_bytes']);
  // /sys is the host's in a lab node; read the counter through ip instead when it is not there
  if (r.exitCode === 0 && r.stdout.trim()) return Number(r.stdout.trim());
  const j = await nodeExec(1, 'ip', ['-j', '-s', 'link', 'show', 'mn0']);
  return Number((JSON.parse(j.stdout) as { stats64: { tx: { bytes: number } } }[])[0]?.stats64.tx.bytes ?? 0);
}

async function main(): Promise<void> {
  await labUp();
  const src = join(LAB_DIR, 'xfer-src');
  const key = join(LAB_DIR, 'authkey');
  mkdirSync(src, { recursive: true });
  const fd = openSync(join(src, 'pages-1.img'), 'w');
  for (let i = 0; i < mib; i += 1) writeSync(fd, randomBytes(1024 * 1024));
  closeSync(fd);
  writeFileSync(join(src, 'inventory.img'), 'x');
  await nodeExec(1, FERRY, ['keygen', '--authkey', key]);
  const helper = execa('sh', [LAB_SH, 'exec', '2', FERRY, 'serve', '--listen', '10.79.0.2', '--authkey', key, '--dir', join(LAB_DIR, 'xfer-in'),
    '--max-bytes', String((mib + 16) * 1024 * 1024)], { reject: false });
  await new Promise((r) => setTimeout(r, 1500));
  const helperMs: number[] = [], socatMs: number[] = [];
  let linkBytes = 0;
  try {
    for (let r = 0; r < rounds; r += 1) {
      const before = await mn0Bytes();
      const send = `import(${JSON.stringify(join(REPO, 'dist', 'src', 'helper', 'client.js'))}).then(async (c) => {
        const { readFileSync } = await import('node:fs');
        const t0 = performance.now();
        await c.sendDirectory({ host: '10.79.0.2', port: 7787, key: readFileSync(${JSON.stringify(key)}), identity: 'node1', timeoutMs: 120000 }, 'bench', 'r${r}', ${JSON.stringify(src)});
        console.log(performance.now() - t0);
      })`;
      const h = await nodeExec(1, 'node', ['--input-type=module', '-e', send], { timeoutMs: 300_000 });
      if (h.exitCode !== 0) throw new Error(`helper transfer failed: ${h.stderr}`);
      helperMs.push(Number(h.stdout.trim()));
      linkBytes = (await mn0Bytes()) - before;
      rmSync(join(LAB_DIR, 'xfer-in', 'bench', `r${r}`), { recursive: true, force: true });

      const out = join(LAB_DIR, 'xfer-socat.out');
      const listener = execa('sh', [LAB_SH, 'exec', '2', 'socat', '-u', 'TCP-LISTEN:7790,bind=10.79.0.2,reuseaddr', `CREATE:${out}`], { reject: false });
      await new Promise((res) => setTimeout(res, 500));
      const t0 = performance.now();
      await nodeExec(1, 'socat', ['-u', `FILE:${join(src, 'pages-1.img')}`, 'TCP:10.79.0.2:7790'], { timeoutMs: 300_000 });
      await listener;
      socatMs.push(performance.now() - t0);
      rmSync(out, { force: true });
    }
  } finally {
    helper.kill('SIGTERM');
    await labDown();
  }
  const rate = (ms: number) => (mib / (ms / 1000)).toFixed(0);
  const h = median(helperMs), s = median(socatMs);
  process.stdout.write(`\n${mib} MiB of checkpoint pages over mn0 (median of ${rounds}); mn0 carried ${(linkBytes / 1048576).toFixed(0)} MiB in the last helper round\n`
    + `  ferry helper (TLS-PSK, to disk): ${h.toFixed(0)} ms, ${rate(h)} MiB/s\n`
    + `  raw socat copy (to disk):        ${s.toFixed(0)} ms, ${rate(s)} MiB/s\n`
    + `  helper / raw throughput: ${(s / h).toFixed(2)}\n`);
  mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
  writeFileSync(join(REPO, 'bench', 'results', 'transfer.json'), `${JSON.stringify({ when: new Date().toISOString(), mib, rounds, helperMs, socatMs, linkBytes }, null, 2)}\n`);
}

main().catch(async (err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await labDown().catch(() => undefined);
  process.exit(1);
});
