/**
 * What a monitor costs. Pacemaker runs it every interval for every container, so its wall time, CPU and memory are
 * compared with the floor any Node.js program pays (`node -e 0`) and with the shell agent admins know
 * (ocf:heartbeat:Dummy): the agent's fast path (the node's helper keeps verdicts, bench/../ocf/ferry/container
 * answers alone), its slow path (no helper: FERRY_SLOW_MONITOR=1, the same as a node without `ferry serve`), for
 * a recurring monitor and a probe, with and without monitor_cmd (whose own cost, run inside the container as the
 * agent runs it, is a row of its own). All run side by side in one process, interleaved round robin (the order
 * rotating every round), so a noisy machine weighs on all of them alike.
 *
 * Method: each run is `python3 bench/rusage.py cmd...` spawned synchronously: it forks, execs and wait4()s the
 * command, printing the wall time around that (ns), the user and system CPU of the command and every descendant
 * it waited for (microseconds; time(1) rounds to 10 ms) and the peak RSS (ru_maxrss, KiB). Three warm-up rounds
 * are discarded.
 *
 * usage: node dist/bench/monitor.js [--runs 40]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from '../test/lab/lab.js';
import { barChartSvg } from './svg.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const RUNS = Number(arg('runs', '40'));
const WARMUP = 3;
/** The targets: the fast path in absolute terms (ms), the slow path as a multiple of `node -e 0`. */
const TARGET = { fastWallMs: 5, fastCpuMs: 5, slowWall: 1.15 };

/** The installed agent, as Pacemaker runs it; the repository's otherwise. */
const INSTALLED = '/usr/lib/ocf/resource.d/ferry/container';
const AGENT = existsSync(INSTALLED) ? INSTALLED : join(REPO, 'ocf', 'ferry', 'container');
const DUMMY = '/usr/lib/ocf/resource.d/heartbeat/Dummy';
const RUSAGE = join(REPO, 'bench', 'rusage.py');
// the agent's entry starts the same node the floor runs
const PATH = [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');

interface Subject { name: string; argv: string[]; env: Record<string, string>; code: number }
interface Sample { ms: number; cpuMs: number; rssKiB: number }

const work = mkdtempSync(join(tmpdir(), 'ferry-bench-monitor-'));
const runDir = join(work, 'run');
const authkey = join(work, 'authkey');
const HEALTH_CMD = 'test -d /';
const plain = { OCF_RESOURCE_INSTANCE: 'bench-mon', OCF_RESKEY_name: `bench-mon-${process.pid}`, OCF_RESKEY_command: 'sleep 100000' };
const checked = { OCF_RESOURCE_INSTANCE: 'bench-mon-cmd', OCF_RESKEY_name: `bench-mon-cmd-${process.pid}`, OCF_RESKEY_command: 'sleep 100000', OCF_RESKEY_monitor_cmd: HEALTH_CMD };
const base = { PATH, OCF_ROOT: '/usr/lib/ocf', FERRY_RUN_DIR: runDir };
const dummyEnv = { PATH, OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'bench-dummy', OCF_RESKEY_state: join(work, 'dummy.state') };
const recurring = { OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_timeout: '20000' };
const probe = { OCF_RESKEY_CRM_meta_interval: '0', OCF_RESKEY_CRM_meta_timeout: '20000' };
const slow = { FERRY_SLOW_MONITOR: '1' };
let monitorCmdPid = 0;

function subjects(): Subject[] {
  const agent = (name: string, env: Record<string, string>, action = 'monitor'): Subject => ({ name, argv: [AGENT, action], env: { ...base, ...env }, code: 0 });
  return [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env: { PATH }, code: 0 },
    { name: 'Dummy monitor', argv: [DUMMY, 'monitor'], env: { ...dummyEnv, ...recurring }, code: 0 },
    agent('ferry monitor', { ...plain, ...recurring }),
    agent('ferry probe', { ...plain, ...probe }),
    agent('ferry monitor, monitor_cmd', { ...checked, ...recurring }),
    agent('ferry monitor, no helper', { ...plain, ...recurring, ...slow }),
    agent('ferry probe, no helper', { ...plain, ...probe, ...slow }),
    agent('ferry monitor, monitor_cmd, no helper', { ...checked, ...recurring, ...slow }),
    { name: 'monitor_cmd itself', argv: ['nsenter', '-t', String(monitorCmdPid), '-p', '-u', '-i', '-n', '--', 'sh', '-c', HEALTH_CMD], env: { PATH }, code: 0 },
    agent('ferry meta-data', plain, 'meta-data'),
  ];
}

function run(argv: string[], env: Record<string, string>): number {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.status ?? -1;
}

function measure(s: Subject): Sample {
  const r = spawnSync('python3', [RUSAGE, ...s.argv], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) throw r.error;
  const [wallNs, user, sys, rss, code] = r.stdout.trim().split(' ').map(Number);
  if (code !== s.code) throw new Error(`${s.name} exited ${code}: ${r.stderr}`);
  return { ms: (wallNs ?? NaN) / 1e6, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000, rssKiB: rss ?? NaN };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
/** Nearest-rank percentile. */
const percentile = (xs: number[], p: number) => sorted(xs)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

let helper: ChildProcess | undefined;

/** Waits (up to 20 s) until the helper's verdict answers a monitor of `env` alone: the agent with nothing on PATH exits 0. */
function awaitVerdict(env: Record<string, string>): void {
  const until = Date.now() + 20_000;
  for (;;) {
    if (run([AGENT, 'monitor'], { ...base, ...env, PATH: '/nonexistent' }) === 0) return;
    if (Date.now() > until) throw new Error(`no verdict of the helper answers for ${env.OCF_RESOURCE_INSTANCE}`);
    spawnSync('sleep', ['0.1']);
  }
}

function setUp(): void {
  for (const [what, argv, env] of [
    ['the container', [AGENT, 'start'], { ...base, ...plain }],
    ['the container with monitor_cmd', [AGENT, 'start'], { ...base, ...checked }],
    ['Dummy', [DUMMY, 'start'], dummyEnv],
    ['the helper\'s key', [process.execPath, join(REPO, 'bin', 'ferry'), 'keygen', '--authkey', authkey], { PATH }],
  ] as const) {
    const code = run([...argv], env);
    if (code !== 0) throw new Error(`could not start ${what} (exit ${code})`);
  }
  const record = JSON.parse(readFileSync(join(runDir, 'containers', `${checked.OCF_RESKEY_name}.json`), 'utf8')) as { pid: number };
  monitorCmdPid = record.pid;
  helper = spawn(process.execPath, [join(REPO, 'bin', 'ferry'), 'serve', '--listen', '127.0.0.1', '--port', String(20000 + (process.pid % 20000)),
    '--authkey', authkey, '--dir', join(work, 'state'), '--node', 'bench'], { env: { PATH, FERRY_RUN_DIR: runDir }, stdio: 'ignore' });
  for (const env of [plain, checked]) {
    if (run([AGENT, 'monitor'], { ...base, ...env, ...recurring }) !== 0) throw new Error(`${env.OCF_RESOURCE_INSTANCE}: the first monitor failed`);
    awaitVerdict({ ...env, ...recurring });
  }
}

function tearDown(): void {
  helper?.kill('SIGTERM');
  for (const env of [plain, checked]) {
    try { run([AGENT, 'stop'], { ...base, ...env }); } catch { /* reported by the leftover below */ }
  }
  try { run([DUMMY, 'stop'], dummyEnv); } catch { /* nothing to clean but its state file */ }
  rmSync(work, { recursive: true, force: true });
}

function main(): void {
  if (process.getuid?.() !== 0) throw new Error('needs root (the monitor is measured on a running container)');
  setUp();
  const SUBJECTS = subjects();
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

  const median = (xs: number[]) => percentile(xs, 50);
  const floor = samples.get('node -e 0') ?? [];
  const floorMs = median(floor.map((x) => x.ms));
  const rows = SUBJECTS.map((s) => {
    const xs = samples.get(s.name) ?? [];
    const ms = xs.map((x) => x.ms);
    const cpu = xs.map((x) => x.cpuMs);
    const rss = xs.map((x) => x.rssKiB);
    return {
      name: s.name,
      command: s.argv.join(' '),
      wallMs: { median: round2(median(ms)), p90: round2(percentile(ms, 90)), min: round2(Math.min(...ms)), max: round2(Math.max(...ms)) },
      cpuMs: { median: round2(median(cpu)), p90: round2(percentile(cpu, 90)) },
      peakRssKiB: { median: median(rss), max: Math.max(...rss) },
      vsFloor: { wall: round2(median(ms) / floorMs) },
    };
  });
  const row = (name: string) => rows.find((r) => r.name === name);
  const check = (what: string, actual: number | undefined, target: number, unit: string) =>
    ({ what, actual, target, unit, met: (actual ?? Infinity) <= target });
  const verdicts = [
    check('ferry monitor wall', row('ferry monitor')?.wallMs.median, TARGET.fastWallMs, 'ms'),
    check('ferry monitor CPU', row('ferry monitor')?.cpuMs.median, TARGET.fastCpuMs, 'ms'),
    check('ferry probe wall', row('ferry probe')?.wallMs.median, TARGET.fastWallMs, 'ms'),
    check('ferry probe CPU', row('ferry probe')?.cpuMs.median, TARGET.fastCpuMs, 'ms'),
    check('ferry monitor, monitor_cmd wall', row('ferry monitor, monitor_cmd')?.wallMs.median, TARGET.fastWallMs, 'ms'),
    check('ferry monitor, no helper', row('ferry monitor, no helper')?.vsFloor.wall, TARGET.slowWall, 'x node -e 0'),
    check('ferry probe, no helper', row('ferry probe, no helper')?.vsFloor.wall, TARGET.slowWall, 'x node -e 0'),
  ];

  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  const line = (c: string[]) => `${(c[0] ?? '').padEnd(nameWidth)} ${(c[1] ?? '').padStart(9)} ${(c[2] ?? '').padStart(9)} ${(c[3] ?? '').padStart(9)} ${(c[4] ?? '').padStart(13)} ${(c[5] ?? '').padStart(9)}`;
  const table = [
    line(['', 'wall', 'wall p90', 'CPU', 'peak RSS', 'wall']),
    line(['', 'ms', 'ms', 'ms', 'MiB', 'x floor']),
    ...rows.map((r) => line([r.name, r.wallMs.median.toFixed(2), r.wallMs.p90.toFixed(2), r.cpuMs.median.toFixed(2),
      (r.peakRssKiB.median / 1024).toFixed(1), r.vsFloor.wall.toFixed(2)])),
  ].join('\n');
  const says = verdicts.map((v) => `${v.what}: ${v.actual?.toFixed(2)} ${v.unit} (target <= ${v.target}): ${v.met ? 'met' : 'MISSED'}`).join('\n');
  process.stdout.write(`monitor cost, medians of ${RUNS} runs each, interleaved round robin (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`
    + `${table}\n${says}\n`);

  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'monitor.json'), `${JSON.stringify({
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), node: process.version, loadavgAfter: loadavg().map(round2) },
    method: `${RUNS} runs each after ${WARMUP} warm-up rounds, interleaved round robin; each run spawned as "python3 bench/rusage.py cmd" `
      + '(fork, exec, wait4: wall ns around it, user+system CPU of the command and its descendants, ru_maxrss KiB)',
    runs: RUNS, target: TARGET, verdicts, rows,
  }, null, 2)}\n`);
  writeFileSync(join(out, 'monitor.svg'), sideBySide([
    barChartSvg({
      title: `Wall time and CPU, medians of ${RUNS} runs (ms)`, unit: 'milliseconds',
      categories: rows.map((r) => r.name),
      series: [{ name: 'wall', values: rows.map((r) => r.wallMs.median) }, { name: 'CPU', values: rows.map((r) => r.cpuMs.median) }],
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
