/**
 * Ferry's two runtime drivers against the runtimes' own checkpoint/restore done by hand and against bare CRIU,
 * side by side in one run inside the two-node lab: one container of 64 MiB (the lab workload's ballast,
 * /srv/ferry/init PORT 64) per method, all started on node1, moved to the other node once per round, the methods
 * interleaved in every round, so machine noise hits all alike:
 *   ferry-lxc      the agent's migrate_to on the source + migrate_from on the target (driver=lxc: Ferry's own
 *                  criu dump, lxc-checkpoint -r), without Pacemaker's scheduling in between;
 *   lxc-checkpoint lxc-checkpoint -s on the source, -r on the target, by hand;
 *   bare-criu      criu dump with the very options Ferry builds for LXC (src/criu/args.ts + the LXC driver's
 *                  dumpOptions), then lxc-checkpoint -r (a raw criu restore of an LXC container is not a
 *                  container LXC owns, and its init dies with criu: test/lab/runtimes-notes.md);
 *   ferry-podman   the agent, driver=podman (podman container checkpoint --export / restore --import inside);
 *   podman         podman container checkpoint --export, a network namespace on the target, restore --import, by hand.
 * The figure compared is the workload's own longest pause (bench/pause-watch.ts: its counter's ticks), the same
 * for all; beside it the wall time of the commands and, for Ferry, the downtime its migration record gives.
 * No client is connected (no TCP session to keep), so the hand-made podman move needs no traffic hold.
 * usage: node dist/bench/runtimes.js [--rounds 6] [--ballast 64]
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { labDown, labUp, LAB_DIR, REPO, SHARED_DIR, type NodeId } from '../test/lab/lab.js';
import { mustAgent, migrate } from '../test/lab/agent-in-node.js';
import { criuForTests } from '../test/lab/criu-for-tests.js';
import { lxcResource, nodeLxcConfig, prepareLxcContainer, writeNodeConfig } from '../test/lab/lxc-container.js';
import { IMAGE, importImage, podmanResource, rootfsTar } from '../test/lab/podman-lab.js';
import { readLxcConfig, mountEntries } from '../src/runtime/lxc/config-file.js';
import { lxcDumpOptions } from '../src/runtime/lxc/criu-options.js';
import { dumpArgs } from '../src/criu/args.js';
import { barChartSvg } from './svg.js';
import { ticksAfter, watchPauses, type PauseWatch } from './pause-watch.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
};
const rounds = Number(arg('rounds', '6'));
const ballast = Number(arg('ballast', '64'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
/** Where lxc-checkpoint and podman find `criu` (the lab's CRIU 4.2.1 with network-lock nftables). */
const RUNTIME_PATH = `/opt/ferry/runtimes/bin:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
const LXCPATH = '/var/lib/lxc';

const METHODS = ['ferry-lxc', 'lxc-checkpoint', 'bare-criu', 'ferry-podman', 'podman'] as const;
type Method = typeof METHODS[number];
const ID: Record<Method, string> = { 'ferry-lxc': 'rta', 'lxc-checkpoint': 'rtb', 'bare-criu': 'rtc', 'ferry-podman': 'rtd', podman: 'rte' };
const IP: Record<Method, string> = { 'ferry-lxc': '10.78.0.71', 'lxc-checkpoint': '10.78.0.72', 'bare-criu': '10.78.0.73', 'ferry-podman': '10.78.0.74', podman: '10.78.0.75' };

/**
 * A command in node N's network, mount and UTS namespaces, straight through nsenter (lab.sh exec costs a shell).
 * `detaches`: the command leaves a daemon behind (lxc-checkpoint -r stays as LXC's monitor) that would hold a
 * stdout pipe open: its output goes to a file instead.
 */
async function on(node: NodeId, cmd: string, args: string[], o: { detaches?: boolean } = {}): Promise<string> {
  const anchor = readFileSync(join(LAB_DIR, `node${node}`, 'anchor.pid'), 'utf8').trim();
  const argv = ['-t', anchor, '-n', '-m', '-u', '--wd=/', cmd, ...args];
  const fail = (code: number | null, err: string) => new Error(`node${node}: ${cmd} ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}`);
  if (o.detaches) {
    // done when the command exits (not when its output closes: the daemon keeps it)
    const log = join(LAB_DIR, `bench-${process.pid}.out`);
    const fd = openSync(log, 'w');
    const child = spawn('nsenter', argv, { stdio: ['ignore', fd, fd], env: { ...process.env, PATH: RUNTIME_PATH } });
    closeSync(fd);
    const code = await new Promise<number | null>((resolve, reject) => { child.on('exit', resolve); child.on('error', reject); });
    if (code !== 0) throw fail(code, readFileSync(log, 'utf8'));
    return '';
  }
  const r = await execa('nsenter', argv, { reject: false, timeout: 120_000, env: { PATH: RUNTIME_PATH }, stdin: 'ignore' });
  if (r.exitCode !== 0) throw fail(r.exitCode ?? null, String(r.stderr));
  return String(r.stdout).trim();
}

const lxcState = (node: NodeId, id: string) => on(node, 'lxc-info', ['-n', id, '-P', LXCPATH, '-s', '-H']);

/** The lab shares one cgroupfs between the nodes: restore only once the source's LXC monitor has let go of it. */
async function lxcStopped(node: NodeId, id: string): Promise<void> {
  const until = Date.now() + 30_000;
  while ((await lxcState(node, id)) !== 'STOPPED') {
    if (Date.now() > until) throw new Error(`${id} still not STOPPED on node${node}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The counter file in a podman container's overlay, as the host sees the node's /var/lib/containers. */
async function podmanCounterPath(node: NodeId, name: string): Promise<string> {
  const upper = await on(node, 'podman', ['container', 'inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', name]);
  return join(LAB_DIR, `node${node}`, 'lib-containers', upper.replace(/^\/var\/lib\/containers/, ''), 'srv', 'ferry', 'counter');
}

/** What an admin makes for a podman container with a fixed address: a named netns with a veth in br0. */
async function makeNetns(node: NodeId, name: string, ip: string): Promise<void> {
  await on(node, 'sh', ['-c', [
    `ip netns add ${name}`, `ip link add v${name} type veth peer name eth0 netns ${name}`, `ip link set v${name} master br0 up`,
    `ip -n ${name} addr add ${ip}/24 dev eth0`, `ip -n ${name} link set eth0 up`, `ip -n ${name} link set lo up`,
  ].join(' && ')]);
}
const removeNetns = (node: NodeId, name: string) => on(node, 'sh', ['-c', `ip link del v${name} 2>/dev/null; ip netns del ${name} 2>/dev/null; true`]);

/** How the LXC driver reads a config and its includes (files and directories). */
const FILES = {
  read: (p: string) => { try { return statSync(p).isFile() ? readFileSync(p, 'utf8') : undefined; } catch { return undefined; } },
  list: (d: string) => { try { return readdirSync(d); } catch { return undefined; } },
};

interface Move { wallMs: number; pauseMs: number; ferryDowntimeMs?: number | undefined }

function ferryDowntime(id: string): number | undefined {
  return JSON.parse(readFileSync(join(SHARED_DIR, id, 'last-migration.json'), 'utf8')).downtimeMs as number | undefined;
}

async function moveOnce(m: Method, criu: string, from: NodeId, to: NodeId, round: number, watch: PauseWatch, follow: (p: string) => void): Promise<Move> {
  const id = ID[m];
  const dir = join(SHARED_DIR, 'rt-images', `${id}-${round}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const before = watch.last();
  watch.reset();
  const started = performance.now();
  let ferryDowntimeMs: number | undefined;
  switch (m) {
    case 'ferry-lxc':
    case 'ferry-podman':
      await migrate(from, to, params(m, criu));
      ferryDowntimeMs = ferryDowntime(id);
      break;
    case 'lxc-checkpoint':
      await on(from, 'lxc-checkpoint', ['-n', id, '-P', LXCPATH, '-s', '-D', dir]);
      await lxcStopped(from, id);
      await on(to, 'lxc-checkpoint', ['-n', id, '-P', LXCPATH, '-r', '-D', dir], { detaches: true });
      break;
    case 'bare-criu': {
      const pid = Number(await on(from, 'lxc-info', ['-n', id, '-P', LXCPATH, '-p', '-H']));
      const options = lxcDumpOptions(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), mountEntries(readLxcConfig(nodeLxcConfig(from, id), FILES)));
      await on(from, criu, dumpArgs({ pid, imagesDir: dir, networkLock: 'nftables', runtimeOptions: options }));
      await lxcStopped(from, id);
      await on(to, 'lxc-checkpoint', ['-n', id, '-P', LXCPATH, '-r', '-D', dir], { detaches: true });
      break;
    }
    case 'podman':
      await on(from, 'podman', ['container', 'checkpoint', '--tcp-established', `--export=${join(dir, 'checkpoint.tar')}`, id]);
      await makeNetns(to, id, IP[m]);
      await on(to, 'podman', ['container', 'restore', '--tcp-established', `--import=${join(dir, 'checkpoint.tar')}`]);
      break;
  }
  const wallMs = Math.round(performance.now() - started);
  if (m === 'podman' || m === 'ferry-podman') follow(await podmanCounterPath(to, id));
  if (m === 'podman') {
    await on(from, 'podman', ['rm', '--force', id]);
    await removeNetns(from, id);
  }
  await ticksAfter(watch, 5);
  const after = watch.last();
  if (watch.restarted() || !after || !before || after.instance !== before.instance || after.value <= before.value) {
    throw new Error(`${m}: the workload did not continue (${JSON.stringify(before)} -> ${JSON.stringify(after)})`);
  }
  rmSync(dir, { recursive: true, force: true });
  return { wallMs, pauseMs: watch.longestPauseMs(), ferryDowntimeMs };
}

function params(m: Method, criu: string): Record<string, string> {
  if (m === 'ferry-lxc') return lxcResource(ID[m], criu).params;
  return podmanResource(ID[m], IP[m], criu, { command: `exec /srv/ferry/init 5000 ${ballast}` }).params;
}

async function startAll(criu: string): Promise<Map<Method, { watch: PauseWatch; follow: (p: string) => void }>> {
  const tar = await rootfsTar();
  const ids = [await importImage(1, tar), await importImage(2, tar)];
  if (ids[0] !== ids[1]) throw new Error(`the image has different IDs on the nodes: ${ids.join(' vs ')}`);
  const watches = new Map<Method, { watch: PauseWatch; follow: (p: string) => void }>();
  for (const [i, m] of METHODS.entries()) {
    const id = ID[m];
    let path: string | undefined;
    if (m === 'ferry-lxc' || m === 'lxc-checkpoint' || m === 'bare-criu') {
      const lab = await prepareLxcContainer(id, IP[m], `02:00:0a:4e:00:${(0x47 + i).toString(16)}`);
      const config = lab.config.replace('lxc.init.cmd = /srv/ferry/init', `lxc.init.cmd = /srv/ferry/init 5000 ${ballast}`);
      for (const n of [1, 2] as const) writeNodeConfig(n, id, config);
      if (m === 'ferry-lxc') await mustAgent(1, 'start', params(m, criu));
      else {
        await on(1, 'lxc-start', ['-n', id, '-P', LXCPATH, '-d'], { detaches: true });
        await on(1, 'lxc-wait', ['-n', id, '-P', LXCPATH, '-s', 'RUNNING', '-t', '30']);
      }
      path = join(lab.rootfs, 'srv', 'ferry', 'counter');
    } else if (m === 'ferry-podman') {
      await mustAgent(1, 'start', params(m, criu));
    } else {
      await makeNetns(1, id, IP[m]);
      await on(1, 'podman', ['run', '--detach', '--name', id, '--network', `ns:/run/netns/${id}`,
        '--annotation', 'org.criu.config=/opt/ferry/runtimes/criu.conf',
        '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', '--memory', '256m', IMAGE, '/srv/ferry/init', '5000', String(ballast)]);
    }
    if (!path) path = await podmanCounterPath(1, id);
    const watch = watchPauses(() => path);
    watches.set(m, { watch, follow: (p) => { path = p; } });
    await ticksAfter(watch, 3);
  }
  return watches;
}

interface Row { method: Method; pauseMs: number; wallMs: number; ferryDowntimeMs: number | undefined; pauses: number[] }

async function main(): Promise<void> {
  const criu = await criuForTests();
  process.stdout.write(`bringing the lab up (CRIU ${criu})...\n`);
  await labUp();
  const samples = new Map<Method, Move[]>(METHODS.map((m) => [m, []]));
  try {
    const watches = await startAll(criu);
    for (let r = 0; r < rounds; r += 1) {
      const [from, to]: [NodeId, NodeId] = r % 2 === 0 ? [1, 2] : [2, 1];
      for (const m of METHODS) {
        const w = watches.get(m);
        if (!w) throw new Error(`no watch for ${m}`);
        const s = await moveOnce(m, criu, from, to, r, w.watch, w.follow);
        samples.get(m)?.push(s);
        process.stdout.write(`round ${r + 1} node${from}->node${to} ${m}: pause ${s.pauseMs} ms, commands ${s.wallMs} ms${s.ferryDowntimeMs !== undefined ? `, record ${s.ferryDowntimeMs} ms` : ''}\n`);
      }
    }
    for (const w of watches.values()) w.watch.stop();
  } finally {
    await labDown();
  }
  const rows: Row[] = METHODS.map((m) => {
    const s = samples.get(m) ?? [];
    const downs = s.flatMap((x) => (x.ferryDowntimeMs === undefined ? [] : [x.ferryDowntimeMs]));
    return { method: m, pauseMs: median(s.map((x) => x.pauseMs)), wallMs: median(s.map((x) => x.wallMs)), ferryDowntimeMs: downs.length ? median(downs) : undefined, pauses: s.map((x) => x.pauseMs) };
  });
  process.stdout.write(`\n${ballast} MiB container moved between the lab's nodes, median of ${rounds} (interleaved)\n`
    + 'method         | workload pause | commands | Ferry record downtime | pauses (ms)\n'
    + rows.map((r) => `${r.method.padEnd(14)} | ${`${r.pauseMs} ms`.padStart(14)} | ${`${r.wallMs} ms`.padStart(8)} | ${(r.ferryDowntimeMs === undefined ? '-' : `${r.ferryDowntimeMs} ms`).padStart(21)} | ${r.pauses.join(' ')}`).join('\n') + '\n');
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'runtimes.json'), `${JSON.stringify({ when: new Date().toISOString(), rounds, ballastMiB: ballast, pause: 'the workload\'s own longest stall: time between two counter ticks seen less the ticks in between times the median tick (bench/pause-watch.ts)', rows }, null, 2)}\n`);
  writeFileSync(join(out, 'runtimes.svg'), barChartSvg({
    title: `Workload pause moving a ${ballast} MiB container between two nodes, median of ${rounds}`,
    unit: 'milliseconds',
    categories: rows.map((r) => r.method),
    series: [
      { name: 'workload pause', values: rows.map((r) => r.pauseMs) },
      { name: 'commands (wall)', values: rows.map((r) => r.wallMs) },
    ],
  }));
  process.stdout.write('wrote bench/results/runtimes.json and runtimes.svg\n');
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  void labDown().finally(() => process.exit(1));
});
