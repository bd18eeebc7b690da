/**
 * A real start with networking, in a scratch network namespace standing in for the node (a bridge br0 with
 * 10.231.0.1/24; the agent runs inside it through nsenter and shares the host mount namespace): the container's
 * eth0 has the configured address and MAC, its host-side veth is in the bridge, the node reaches it; monitor_cmd
 * decides recurring monitors but not probes; stop removes the container and its veth.
 */
import t from 'tap';
import { execa } from 'execa';
import {
  PROBE, RECURRING, Scratch, agent, crashLines, ensureBuilt, isSameProcess, recordOf, requireRootAndTools, shown,
  type AgentOptions,
} from './fixtures/agent.js';

const scratch = new Scratch('net');
const netns = `fyt-${process.pid}`;
const BRIDGE_ADDRESS = '10.231.0.1';
const IP = '10.231.0.50';
const MAC = '02:00:0a:e7:00:32';

async function sh(file: string, args: string[]) {
  const r = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 30_000 });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function must(file: string, args: string[]): Promise<string> {
  const r = await sh(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const inNode = (file: string, args: string[]) => sh('nsenter', [`--net=/run/netns/${netns}`, file, ...args]);

interface Link { ifname: string; address?: string; master?: string; addr_info?: { family: string; local: string; prefixlen: number }[] }

t.before(async () => {
  requireRootAndTools(['ip', 'nsenter', 'unshare', 'setsid', 'hostname', 'ping']);
  t.comment(await ensureBuilt());
  await sh('ip', ['netns', 'del', netns]); // a leftover of an earlier run of this PID
  await must('ip', ['netns', 'add', netns]);
  await must('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  await must('ip', ['-n', netns, 'link', 'add', 'br0', 'type', 'bridge']);
  await must('ip', ['-n', netns, 'addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', 'br0']);
  await must('ip', ['-n', netns, 'link', 'set', 'br0', 'up']);
});
t.teardown(async () => {
  await scratch.cleanup();
  await sh('ip', ['netns', 'del', netns]);
});

t.test('start with ip, bridge and mac; monitor_cmd; stop', async (t) => {
  const name = scratch.name();
  const opts: AgentOptions = {
    runDir: scratch.runDir,
    wrap: ['nsenter', `--net=/run/netns/${netns}`],
    params: {
      name, command: scratch.command(), ip: `${IP}/24`, bridge: 'br0', mac: MAC, stop_timeout: '5',
      // the container reaches its gateway: fails once the node's bridge loses that address
      monitor_cmd: `ping -c 1 -W 1 ${BRIDGE_ADDRESS} >/dev/null`,
    },
  };
  const start = await agent('start', opts);
  t.equal(start.code, 0, 'start: 0', shown(start));
  const record = recordOf(scratch.runDir, name);
  if (!record) throw new Error(`no record after start: ${start.stderr}`);
  t.ok(isSameProcess(record.pid, record.startTime), `its init runs (pid ${record.pid})`);

  const links = JSON.parse(await must('nsenter', ['-t', String(record.pid), '-n', 'ip', '-j', 'addr'])) as Link[];
  const eth0 = links.find((l) => l.ifname === 'eth0');
  t.equal(eth0?.address, MAC, 'eth0 has the configured MAC');
  t.same(eth0?.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), [`${IP}/24`],
    'eth0 has the configured address');

  const hostSide = record.hostInterface ?? '';
  t.ok(hostSide, `the record names the host-side veth (${hostSide})`);
  const inBridge = JSON.parse(await must('ip', ['-n', netns, '-j', 'link', 'show', 'master', 'br0'])) as Link[];
  t.ok(inBridge.some((l) => l.ifname === hostSide), 'the host-side veth is in br0', { inBridge: inBridge.map((l) => l.ifname) });
  const ping = await inNode('ping', ['-c', '1', '-W', '2', '-I', BRIDGE_ADDRESS, IP]);
  t.equal(ping.code, 0, 'the node reaches the container from the bridge address', ping);

  const healthy = await agent('monitor', { ...opts, env: RECURRING });
  t.equal(healthy.code, 0, 'monitor with a passing monitor_cmd: 0', shown(healthy));

  await must('ip', ['-n', netns, 'addr', 'del', `${BRIDGE_ADDRESS}/24`, 'dev', 'br0']);
  const unhealthy = await agent('monitor', { ...opts, env: RECURRING });
  t.equal(unhealthy.code, 1, 'monitor with a failing monitor_cmd: 1', shown(unhealthy));
  t.equal(unhealthy.reasons.length, 1, 'one exit reason');
  t.match(unhealthy.reasons[0] ?? '', /unhealthy: monitor_cmd exited with 1/, 'the reason says monitor_cmd failed and how');
  t.same(crashLines(unhealthy.stderr), [], 'no stack trace');
  const probe = await agent('monitor', { ...opts, env: PROBE });
  t.equal(probe.code, 0, 'a probe ignores monitor_cmd: 0', shown(probe));
  await must('ip', ['-n', netns, 'addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', 'br0']);
  const recovered = await agent('monitor', { ...opts, env: RECURRING });
  t.equal(recovered.code, 0, 'monitor once it passes again: 0', shown(recovered));

  const stop = await agent('stop', opts);
  t.equal(stop.code, 0, 'stop: 0', shown(stop));
  t.notOk(isSameProcess(record.pid, record.startTime), 'the container is gone');
  t.same(await scratch.leftovers(), [], 'no process of it remains');
  const after = JSON.parse(await must('ip', ['-n', netns, '-j', 'link', 'show'])) as Link[];
  t.notOk(after.some((l) => l.ifname === hostSide), 'the host-side veth is removed', { links: after.map((l) => l.ifname) });
  const gone = await inNode('ping', ['-c', '1', '-W', '1', IP]);
  t.not(gone.code, 0, 'its address no longer answers');
});
