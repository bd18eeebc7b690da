/**
 * driver=lxc under the real two-node Pacemaker lab: an LXC container as admins run one (a Debian root filesystem
 * on shared storage, its config on both nodes, a veth on br0 with a fixed MAC, a memory limit) with a TCP client
 * connected, moved live with crm_resource --move node1 -> node2 -> node1 and by node standby. The session must
 * never be reset, the process and its counter go on, a file written in the container before the move is there
 * after it, the memory limit holds, LXC itself owns the container on the target, and ocf-tester passes.
 */
import t from 'tap';
import { failedActions, labDown, labUp, nodeExec, resourceNodes, type NodeId } from '../lab/lab.js';
import { standby } from '../lab/cluster.js';
import { AGENT, agent } from '../lab/agent-in-node.js';
import {
  createAndWait, criuForTests, moveAndMeasure, readCounter, counterFile, removeResource, startClient, waitReplies, endAfterMoves, standbyWithClient,
} from '../lab/scenario.js';
import { lxcResource, prepareLxcContainer, writeNodeConfig, type LxcLab } from '../lab/lxc-container.js';
import { settleOnOne } from '../lab/scenario.js';
import { move } from '../lab/cluster.js';
import { setFault, useFaultWrapper } from '../lab/faults.js';

const ID = 'lxc1';
const IP = '10.78.0.61';
const MAC = '02:00:0a:4e:00:3d';
const LIMIT = 256 * 1024 * 1024;
let criu = '';
let lab: LxcLab;

const lxc = (node: NodeId, tool: string, args: string[], id = ID) => nodeExec(node, tool, ['-n', id, '-P', '/var/lib/lxc', ...args]);
const lxcState = async (node: NodeId, id = ID) => (await lxc(node, 'lxc-info', ['-s', '-H'], id)).stdout.trim();

/** Processes of this container's workload on any node (they share this machine's PID space): the counter servers in its LXC cgroup. */
async function workloadCopies(id: string): Promise<number> {
  const r = await nodeExec(1, 'sh', ['-c', 'for p in $(pgrep -f "server.py /srv/ferry/counter"); do grep -h ":memory:" /proc/$p/cgroup; done']);
  return r.stdout.split('\n').filter((line) => new RegExp(`/lxc\\.payload\\.${id}(-[0-9]+)?$`).test(line.trim())).length;
}

const inContainer = (node: NodeId, command: string) => lxc(node, 'lxc-attach', ['--', '/bin/sh', '-c', command]);

/** The memory limit the kernel enforces on the container's init there (cgroup v1, this host). */
async function memoryLimit(node: NodeId): Promise<number | undefined> {
  const pid = (await lxc(node, 'lxc-info', ['-p', '-H'])).stdout.trim();
  const cgroup = await nodeExec(node, 'cat', [`/proc/${pid}/cgroup`]);
  const path = /^\d+:memory:(\/\S*)$/m.exec(cgroup.stdout)?.[1];
  if (!path) return undefined;
  return Number((await nodeExec(node, 'cat', [`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`])).stdout.trim());
}

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  for (const tool of ['lxc-start', 'lxc-checkpoint']) {
    if ((await nodeExec(1, 'which', [tool]).catch(() => ({ exitCode: 1 }))).exitCode !== 0 && !(await import('node:fs')).existsSync(`/usr/bin/${tool}`)) {
      throw new Error(`${tool} is not installed: run sh test/lab/install-runtimes.sh (npm test does)`);
    }
  }
  criu = await criuForTests();
  await labUp();
  lab = await prepareLxcContainer(ID, IP, MAC, LIMIT);
});
t.teardown(async () => { await labDown(); });

t.test('validate-all at level 10 accepts the container on both nodes, and names what would keep one from moving', async (t) => {
  const params = lxcResource(ID, criu).params;
  for (const n of [1, 2] as const) {
    const r = await agent(n, 'validate-all', params, { allow_migrate: 'true' });
    t.equal(r.code, 0, `node${n}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
  writeNodeConfig(2, ID, lab.config.replace('lxc.console.path = none', 'lxc.console.path = /dev/console'));
  const bad = await agent(2, 'validate-all', params, { allow_migrate: 'true' });
  t.equal(bad.code, 6, 'a console in the config: not configured for live migration (6)');
  t.match(bad.stderr, /ocf-exit-reason:.*lxc.console.path must be none/);
  writeNodeConfig(2, ID, lab.config);
});

t.test('bad input for driver=lxc: 5 or 6 with the reason, nothing started', async (t) => {
  const params = lxcResource(ID, criu).params;
  const missing = await agent(1, 'start', { ...params, config: `/srv/nowhere/${ID}/config` });
  t.equal(missing.code, 5, 'a config this node does not have: not installed here (5), another node may have it');
  t.match(missing.stderr, /ocf-exit-reason:the LXC configuration of lxc1 cannot be read on this node: \/srv\/nowhere\/lxc1\/config cannot be read/);
  const other = await agent(1, 'validate-all', { ...params, config: '/var/lib/lxc/other/config' });
  t.equal(other.code, 6, 'a config of another container name: 6');
  t.match(other.stderr, /ocf-exit-reason:parameter config: must be LXCPATH\/lxc1\/config/);
  const traversal = await agent(1, 'start', { ...params, config: '/var/lib/lxc/../../etc/lxc1/config' });
  t.equal(traversal.code, 6, 'path traversal: 6');
  t.match(traversal.stderr, /ocf-exit-reason:parameter config: .*"\." or "\.\." components/);
  const withIp = await agent(1, 'validate-all', { ...params, ip: '10.78.0.99/24', bridge: 'br0' });
  t.equal(withIp.code, 6, 'native\'s network parameters with driver=lxc: 6');
  t.match(withIp.stderr, /ocf-exit-reason:parameter ip: is not used with driver=lxc/);
  t.equal(await lxcState(1), 'STOPPED', 'nothing was started');
});

t.test('crm_resource --move node1 -> node2 -> node1: one LXC container, same process, session kept, file and limit kept', async (t) => {
  await createAndWait(lxcResource(ID, criu), 'node1');
  t.equal(await lxcState(1), 'RUNNING', 'LXC runs it on node1');
  t.equal(await memoryLimit(1), LIMIT, 'the memory limit of its config is in force');
  const marker = await inContainer(1, 'echo written-before-the-move > /root/marker && cat /root/marker');
  t.equal(marker.stdout.trim(), 'written-before-the-move', 'a file written inside the container');
  const client = startClient(IP, 300, 'lxc-move');
  await waitReplies(client, 20);

  const there = await moveAndMeasure(ID, 'node1', 'node2');
  t.equal(there.summary.target, 'node2', `migrated live (${String(there.summary.type)}, downtime ${String(there.summary.downtimeMs)} ms)`);
  t.equal(there.counterAfter?.instance, there.counterBefore?.instance, 'same process after the move');
  t.ok((there.counterAfter?.value ?? 0) > (there.counterBefore?.value ?? Infinity), 'its counter went on');
  t.equal(await lxcState(2), 'RUNNING', 'LXC owns it on node2 (lxc-info)');
  t.equal(await lxcState(1), 'STOPPED', 'and on node1 it is gone');
  t.equal((await inContainer(2, 'cat /root/marker')).stdout.trim(), 'written-before-the-move', 'the file is there after the move');
  t.equal(await memoryLimit(2), LIMIT, 'the memory limit holds on node2');

  const back = await moveAndMeasure(ID, 'node2', 'node1');
  t.equal(back.counterAfter?.instance, there.counterBefore?.instance, 'still the same process after moving back');
  t.equal(await lxcState(1), 'RUNNING');
  t.equal(await memoryLimit(1), LIMIT, 'and the limit on node1 again');

  const { summary: c, afterMoves } = await endAfterMoves(client);
  t.same(c.errors, [], 'the TCP session was never reset');
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.ok(c.replies >= afterMoves + 20, `the client kept talking (${c.replies} replies, longest pause ${c.max_gap_ms} ms)`);
  t.same(await failedActions(1), [], 'crm_mon shows no failed actions');
});

t.test('standby node1 evacuates the LXC container live to node2', async (t) => {
  const { before, after, summary: c } = await standbyWithClient(ID, IP, 'lxc-standby');
  t.equal(after?.instance, before?.instance, 'same process on node2');
  t.same(c.errors, [], 'TCP session kept during the evacuation');
  await standby('node1', false);
  t.same(await failedActions(1), [], 'no failed actions');
  t.same(await resourceNodes(1, ID), ['node2'], 'runs on node2 only');
  await removeResource(ID);
  for (const n of [1, 2] as const) t.equal(await lxcState(n), 'STOPPED', `nothing of it left on node${n}`);
});

t.test('ocf-tester passes for driver=lxc', async (t) => {
  const r = await nodeExec(1, 'ocf-tester', ['-n', 'lxc1t', '-o', `name=${ID}`, '-o', 'driver=lxc', '-o', 'stop_timeout=3', AGENT], { timeoutMs: 180_000 });
  t.equal(r.exitCode, 0, 'exit 0');
  t.match(r.stdout + r.stderr, /passed all tests/, `"passed all tests"${r.exitCode ? `: ${(r.stdout + r.stderr).slice(-800)}` : ''}`);
  t.equal(await lxcState(1), 'STOPPED', 'it stopped what it started');
});

t.test('faults: one copy after each, with its state where a checkpoint was complete', async (t) => {
  const wrapper = useFaultWrapper(criu);
  const cases: { id: string; ip: string; mac: string; what: string; node: NodeId; set: (c: LxcLab) => Promise<void>; unset: (c: LxcLab) => Promise<void>; sameProcess: boolean }[] = [
    { id: 'lxcf1', ip: '10.78.0.62', mac: '02:00:0a:4e:00:3e', what: 'the restore fails on node2', node: 2, sameProcess: true,
      set: () => setFault(2, 'restore-fails', true), unset: () => setFault(2, 'restore-fails', false) },
    { id: 'lxcf2', ip: '10.78.0.63', mac: '02:00:0a:4e:00:3f', what: 'CRIU is killed mid-dump on node1', node: 1, sameProcess: false,
      set: () => setFault(1, 'dump-killed', true), unset: () => setFault(1, 'dump-killed', false) },
    { id: 'lxcf3', ip: '10.78.0.64', mac: '02:00:0a:4e:00:40', what: 'node2\'s LXC config differs (another memory limit)', node: 2, sameProcess: true,
      set: async (c) => writeNodeConfig(2, c.id, c.config.replace(`= ${LIMIT}`, `= ${LIMIT * 2}`)), unset: async (c) => writeNodeConfig(2, c.id, c.config) },
  ];
  for (const f of cases) {
    const c = await prepareLxcContainer(f.id, f.ip, f.mac, LIMIT);
    await createAndWait(lxcResource(f.id, wrapper), 'node1');
    const before = readCounter(counterFile(f.id));
    await f.set(c);
    await move(f.id, 'node2');
    const where = await settleOnOne(f.id);
    await f.unset(c);
    // a dump that did not complete leaves no checkpoint: Pacemaker's recovery may then start it on either node
    const expected = f.sameProcess ? ['node1'] : where;
    t.same(where, expected, `${f.what}: Pacemaker ends with it on ${where.join(',')} only`);
    t.equal(await workloadCopies(f.id), 1, `${f.what}: exactly one copy of the workload`);
    const states = [await lxcState(1, f.id), await lxcState(2, f.id)];
    t.same(states, where[0] === 'node1' ? ['RUNNING', 'STOPPED'] : ['STOPPED', 'RUNNING'], `${f.what}: LXC runs it there only`);
    const after = readCounter(counterFile(f.id));
    if (f.sameProcess) {
      t.equal(after?.instance, before?.instance, `${f.what}: the same process, resumed from its checkpoint`);
      t.ok((after?.value ?? 0) >= (before?.value ?? Infinity), `${f.what}: its counter continued (${before?.value} -> ${after?.value})`);
    } else {
      t.ok((after?.value ?? 0) > 0, `${f.what}: it runs (${after?.instance === before?.instance ? 'the same process, resumed by CRIU' : 'restarted: no complete checkpoint existed'})`);
    }
    if (f.id === 'lxcf3') {
      const failures = (await failedActions(1)).join('\n');
      t.match(failures, /differs from node1/, 'node2 said why it refused');
    }
    await removeResource(f.id);
  }
});
