/**
 * What a monitor costs. Pacemaker runs it every interval for every container, so its wall time and memory are
 * compared with the floor any Node.js program pays (`node -e 0`), with the agent's meta-data, and with the
 * shell agent admins know (ocf:heartbeat:Dummy). The four run side by side in one process, interleaved round
 * robin (the order rotating every round), so a noisy machine weighs on all of them alike.
 *
 * Method: each run is `/usr/bin/time -f '%e %M' -o FILE cmd...` spawned synchronously. Wall time is measured
 * here, with the monotonic clock around the spawn (time(1)'s %e has 10 ms resolution; its own exec costs about
 * 1 ms, the same for every command); peak RSS is time(1)'s %M, the child's ru_maxrss from wait4 (KiB): the
 * largest resident set of the process or any descendant it waited for. Three warm-up rounds are discarded.
 *
 * usage: node dist/bench/monitor.js [--runs 30]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from '../test/lab/lab.js';
import { barChartSvg } from './svg.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const RUNS = Number(arg('runs', '30'));
const WARMUP = 3;
/** The target for monitor, as multiples of the `node -e 0` floor. */
const TARGET = { wall: 1.25, rss: 1.3 };

/** The installed agent, as Pacemaker runs it (its shebang names node's absolute path); the repository's otherwise. */
const INSTALLED = '/usr/lib/ocf/resource.d/ferry/container';
const AGENT = existsSync(INSTALLED) ? INSTALLED : join(REPO, 'ocf', 'ferry', 'container');
const DUMMY = '/usr/lib/ocf/resource.d/heartbeat/Dummy';
const TIME = '/usr/bin/time';
// the agent's `#!/usr/bin/env node` finds the same node the floor runs
const PATH = [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');

interface Subject { name: string; argv: string[]; env: Record<string, string> }
interface Sample { ms: number; rssKiB: number }

const work = mkdtempSync(join(tmpdir(), 'ferry-bench-monitor-'));
const runDir = join(work, 'run');
const container = { OCF_RESKEY_name: `bench-mon-${process.pid}`, OCF_RESKEY_command: 'sleep 100000' };
const agentEnv = { PATH, OCF_ROOT: '/usr/lib/ocf', FERRY_RUN_DIR: runDir, OCF_RESOURCE_INSTANCE: 'bench-mon', ...container };
const dummyEnv = { PATH, OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'bench-dummy', OCF_RESKEY_state: join(work, 'dummy.state') };
const recurring = { OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_timeout: '20000' };

const SUBJECTS: Subject[] = [
  { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env: { PATH } },
  { name: 'ferry monitor', argv: [AGENT, 'monitor'], env: { ...agentEnv, ...recurring } },
  // the same container described with an address: validating it loads node:net (about 4 ms)
  { name: 'ferry monitor, ip set', argv: [AGENT, 'monitor'], env: { ...agentEnv, ...recurring, OCF_RESKEY_ip: '10.78.0.50/24', OCF_RESKEY_bridge: 'br0' } },
  { name: 'ferry meta-data', argv: [AGENT, 'meta-data'], env: agentEnv },
  { name: 'Dummy monitor', argv: [DUMMY, 'monitor'], env: { ...dummyEnv, ...recurring } },
];
const EXPECTED_CODE: Record<string, number> = { 'ferry monitor': 0, 'ferry monitor, ip set': 0, 'ferry meta-data': 0, 'Dummy monitor': 0, 'node -e 0': 0 };

function run(argv: string[], env: Record<string, string>): number {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.status ?? -1;
}

function measure(s: Subject): Sample {
  const out = join(work, 'time.out');
  const started = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%e %M', '-o', out, ...s.argv], { env: s.env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== EXPECTED_CODE[s.name]) throw new Error(`${s.name} exited ${r.status}: ${r.stderr}`);
  const [, rss] = readFileSync(out, 'utf8').trim().split('\n').pop()?.split(' ') ?? [];
  return { ms, rssKiB: Number(rss) };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
/** Nearest-rank percentile. */
const percentile = (xs: number[], p: number) => sorted(xs)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

function setUp(): void {
  for (const [what, argv, env] of [
    ['the container', [AGENT, 'start'], agentEnv],
    ['Dummy', [DUMMY, 'start'], dummyEnv],
  ] as const) {
    const code = run([...argv], env);
    if (code !== 0) throw new Error(`could not start ${what} (exit ${code})`);
  }
}

function tearDown(): void {
  try { run([AGENT, 'stop'], agentEnv); } catch { /* reported by the leftover below */ }
  try { run([DUMMY, 'stop'], dummyEnv); } catch { /* nothing to clean but its state file */ }
  rmSync(work, { recursive: true, force: true });
}

function main(): void {
  if (process.getuid?.() !== 0) throw new Error('needs root (the monitor is measured on a running container)');
  setUp();
  const samples = new Map<string, Sample[]>(SUBJECTS.map((s) => [s.name, []]));
  try {
    for (let round = 0; round < WARMUP + RUNS; round += 1) {
      for (let k = 0; k < SUBJECTS.length; k += 1) {
        const s = SUBJECTS[(round + k) % SUBJECTS.length] as Subject;
        const sample = measure(s);
        if (round >= WARMUP) samples.get(s.name)?.push(sample);
      }
    }
  } finally {
    tearDown();
  }

  const floor = samples.get('node -e 0') ?? [];
  const floorMs = percentile(floor.map((x) => x.ms), 50);
  const floorRss = percentile(floor.map((x) => x.rssKiB), 50);
  const rows = SUBJECTS.map((s) => {
    const xs = samples.get(s.name) ?? [];
    const ms = xs.map((x) => x.ms);
    const rss = xs.map((x) => x.rssKiB);
    const medianMs = percentile(ms, 50);
    const medianRss = percentile(rss, 50);
    return {
      name: s.name,
      command: s.argv.join(' '),
      wallMs: { median: round1(medianMs), p90: round1(percentile(ms, 90)), min: round1(Math.min(...ms)), max: round1(Math.max(...ms)) },
      peakRssKiB: { median: medianRss, max: Math.max(...rss) },
      vsFloor: { wall: round2(medianMs / floorMs), rss: round2(medianRss / floorRss) },
    };
  });
  const monitor = rows.find((r) => r.name === 'ferry monitor');
  const verdict = {
    wall: { target: TARGET.wall, actual: monitor?.vsFloor.wall, met: (monitor?.vsFloor.wall ?? Infinity) <= TARGET.wall },
    rss: { target: TARGET.rss, actual: monitor?.vsFloor.rss, met: (monitor?.vsFloor.rss ?? Infinity) <= TARGET.rss },
  };

  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  const line = (c: string[]) => `${(c[0] ?? '').padEnd(nameWidth)} ${(c[1] ?? '').padStart(9)} ${(c[2] ?? '').padStart(9)} ${(c[3] ?? '').padStart(13)} ${(c[4] ?? '').padStart(10)} ${(c[5] ?? '').padStart(9)}`;
  const table = [
    line(['', 'median', 'p90', 'peak RSS', 'wall', 'RSS']),
    line(['', 'ms', 'ms', 'MiB (median)', 'x floor', 'x floor']),
    ...rows.map((r) => line([r.name, r.wallMs.median.toFixed(1), r.wallMs.p90.toFixed(1), (r.peakRssKiB.median / 1024).toFixed(1),
      r.vsFloor.wall.toFixed(2), r.vsFloor.rss.toFixed(2)])),
  ].join('\n');
  const says = (v: { target: number; actual: number | undefined; met: boolean }) => `${v.actual?.toFixed(2)} x (target <= ${v.target}): ${v.met ? 'met' : 'MISSED'}`;
  process.stdout.write(`monitor cost, ${RUNS} runs each, interleaved round robin (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`
    + `${table}\nferry monitor wall time ${says(verdict.wall)}\nferry monitor peak RSS ${says(verdict.rss)}\n`);

  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'monitor.json'), `${JSON.stringify({
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, kernel: release(), node: process.version, loadavgAfter: loadavg().map(round2) },
    method: `${RUNS} runs each after ${WARMUP} warm-up rounds, interleaved round robin; each run spawned as `
      + `"${TIME} -f '%e %M' -o FILE cmd"; wall time from the monotonic clock around the spawn, peak RSS = time(1) %M (ru_maxrss, KiB)`,
    runs: RUNS, target: TARGET, verdict, rows,
  }, null, 2)}\n`);
  writeFileSync(join(out, 'monitor.svg'), sideBySide([
    barChartSvg({
      title: `Wall time, ${RUNS} runs each (ms)`, unit: 'milliseconds',
      categories: rows.map((r) => r.name),
      series: [{ name: 'median', values: rows.map((r) => r.wallMs.median) }, { name: 'p90', values: rows.map((r) => r.wallMs.p90) }],
    }),
    barChartSvg({
      title: 'Peak RSS, median of runs (MiB)', unit: 'MiB',
      categories: rows.map((r) => r.name),
      series: [{ name: 'peak RSS', values: rows.map((r) => round1(r.peakRssKiB.median / 1024)) }],
    }),
  ]));
  process.stdout.write('wrote bench/results/monitor.json and monitor.svg\n');
}

/** Places self-contained SVG charts next to each other in one document (nested <svg> elements). */
function sideBySide(charts: string[]): string {
  const size = (svg: string, attr: string) => Number(new RegExp(`<svg[^>]* ${attr}="(\\d+)"`).exec(svg)?.[1] ?? 0);
  let x = 0;
  const placed = charts.map((c) => {
    const at = x;
    x += size(c, 'width');
    return c.trim().replace('<svg ', `<svg x="${at}" y="0" `);
  });
  const height = Math.max(...charts.map((c) => size(c, 'height')));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${x}" height="${height}">\n${placed.join('\n')}\n</svg>\n`;
}

try {
  main();
} catch (err) {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
