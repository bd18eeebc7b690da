/**
 * checkpoint_on_stop under the real two-node Pacemaker lab, without allow-migrate: Pacemaker moves the container
 * by stop and start, and the stop checkpoints it into state_dir, the start on the other node resumes it. Moved with
 * crm_resource --move node1 -> node2 -> node1 and by node standby: the same process after each, its counter
 * continued. Faults: a dump that cannot finish before the stop timeout is cut off and the container stopped the
 * normal way (it starts afresh, nothing failed), a checkpoint whose restore fails is set aside and the container
 * starts afresh.
 */
import t, { type Test } from 'tap';
import { crm, failedActions, labDown, labUp, nodeExec, waitFor, pacemakerLog, resourceNodes, SHARED_DIR, type NodeId } from '../lab/lab.js';
import { clear, executedOperations, move, standby } from '../lab/cluster.js';
import {
  clientReplies, containerResource, counterFile, counterSince, createAndWait, criuForTests, moveAndMeasure, readCounter, removeResource,
  settleOnOne, startClient, waitReplies, waitRunningOn, type Counter,
} from '../lab/scenario.js';
import { setFault, useFaultWrapper } from '../lab/faults.js';
import { lxcResource, prepareLxcContainer } from '../lab/lxc-container.js';
import { createPodmanAndWait, importImage, podmanContainers, podmanCounter, podmanResource, rootfsTar } from '../lab/podman-lab.js';

const ID = 'cos1';
const IP = '10.78.0.71';
let criu = '';

const logs = async () => `${await pacemakerLog(1, 5000)}\n${await pacemakerLog(2, 5000)}`;
const imagesLeft = async (id: string) => (await nodeExec(1, 'ls', ['-A', `${SHARED_DIR}/${id}/images`])).stdout.trim();

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  criu = await criuForTests();
  await labUp();
});
t.teardown(async () => { await labDown(); });

function sameProcessContinued(t: Test, what: string, before: Counter | undefined, after: Counter | undefined): void {
  t.equal(after?.instance, before?.instance, `${what}: the same process (resumed, not restarted)`);
  t.ok((after?.value ?? 0) > (before?.value ?? Infinity), `${what}: its counter continued (${before?.value} -> ${after?.value})`);
}

t.test('crm_resource --move node1 -> node2 -> node1 without allow-migrate: stop checkpoints, start resumes', async (t) => {
  await createAndWait({ ...containerResource(ID, IP, criu, { checkpoint_on_stop: 'true' }), allowMigrate: false }, 'node1');
  const client = startClient(IP, 300, 'cos-move');
  await waitReplies(client, 20);
  const first = readCounter(counterFile(ID));

  const there = await moveAndMeasure(ID, 'node1', 'node2');
  sameProcessContinued(t, 'node1 -> node2', there.counterBefore, there.counterAfter);
  t.equal(there.summary.target, 'node2', `the resume's figures name node2 (downtime ${String(there.summary.downtimeMs)} ms, whole move ${there.wallMs} ms)`);
  const ops = (await executedOperations(ID)).map((o) => `${o.op}@${o.node}:${o.result}`);
  t.notOk(ops.some((o) => o.startsWith('migrate_')), `Pacemaker stopped and started it, no migrate_to (${ops.join(', ')})`);
  t.ok(ops.includes('stop@node1:ok') && ops.includes('start@node2:ok'), 'stop on node1, start on node2');
  t.match(await logs(), /checkpointed cos1 on stop as \S+ in \d+ ms/, 'the stop logged its checkpoint');
  t.match(await logs(), /resuming cos1 from checkpoint \S+, made when node1 stopped it/, 'the start logged what it resumed');
  t.equal(await imagesLeft(ID), '', 'images removed after the resume');

  const back = await moveAndMeasure(ID, 'node2', 'node1');
  sameProcessContinued(t, 'node2 -> node1', back.counterBefore, back.counterAfter);
  t.equal(back.counterAfter?.instance, first?.instance, 'still the process started at the beginning');

  const afterMoves = clientReplies(client);
  await waitReplies(client, 5, afterMoves, 20_000).catch(() => 0);
  client.stop();
  const c = await client.done;
  // stop and start are each a separate operation: the frozen time is longer than a live migration's
  t.comment(`TCP client across both cold moves: ${c.replies} replies, longest pause ${c.max_gap_ms} ms, errors: ${JSON.stringify(c.errors)}`);
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.same(await failedActions(1), [], 'crm_mon shows no failed actions');
  const modes = await nodeExec(1, 'stat', ['-c', '%a', `${SHARED_DIR}/${ID}`, `${SHARED_DIR}/${ID}/images`, `${SHARED_DIR}/${ID}/migration.json`]);
  t.same(modes.stdout.trim().split('\n'), ['700', '700', '600'], 'state kept private');
});

t.test('standby node1: the stop checkpoints, node2 resumes the same process', async (t) => {
  const before = readCounter(counterFile(ID));
  await standby('node1', true);
  await waitRunningOn(ID, 'node2');
  const after = await counterSince(ID, before);
  sameProcessContinued(t, 'standby node1', before, after);
  await standby('node1', false);
  t.same(await failedActions(1), [], 'no failed actions');
  t.same(await resourceNodes(1, ID), ['node2'], 'runs on node2 only');
  await removeResource(ID);
  t.equal((await nodeExec(1, 'pgrep', ['-f', counterFile(ID)])).stdout.trim(), '', 'nothing left after delete (its last stop checkpointed it: no process)');
});

t.test('faults: a dump that cannot finish before the stop timeout still stops the container; a checkpoint that cannot be restored is set aside', async (t) => {
  const wrapper = useFaultWrapper(criu);
  const cases = [
    // stop timeout 20 s: the agent's deadline is 18 s, the dump may take 11 s of it; the wrapper's dump waits 30 s first
    { id: 'cosf1', ip: '10.78.0.72', what: 'the dump on node1\'s stop outlasts its budget', node: 1 as const, fault: 'dump-slow' as const, stopTimeoutS: 20,
      log: /checkpoint of cosf1 on stop failed \(.*timed out.*\); stopping it the normal way/ },
    { id: 'cosf2', ip: '10.78.0.73', what: 'the restore fails on node2\'s start', node: 2 as const, fault: 'restore-fails' as const, stopTimeoutS: 60,
      log: /could not resume cosf2 from checkpoint \S+ made by stop \(.*\): setting it aside and starting afresh/ },
  ];
  for (const f of cases) {
    await createAndWait({ ...containerResource(f.id, f.ip, wrapper, { checkpoint_on_stop: 'true' }), allowMigrate: false, stopTimeoutS: f.stopTimeoutS }, 'node1');
    const before = readCounter(counterFile(f.id));
    await setFault(f.node, f.fault, true);
    const began = Date.now();
    await move(f.id, 'node2');
    const where = await settleOnOne(f.id);
    await setFault(f.node, f.fault, false);
    t.same(where, ['node2'], `${f.what}: it runs on node2 only (${Date.now() - began} ms after the move)`);
    const after = await counterSince(f.id, before);
    t.not(after?.instance, before?.instance, `${f.what}: started afresh (${before?.instance} -> ${after?.instance})`);
    t.same(await failedActions(1), [], `${f.what}: no failed action (the stop and the start succeeded within their timeouts)`);
    const log = await logs();
    t.match(log, f.log, `${f.what}: the reason is logged`);
    t.comment(log.split('\n').filter((l) => l.includes(f.id) && /checkpoint|resum|afresh/.test(l)).slice(-4).join('\n'));
    const copies = (await nodeExec(1, 'pgrep', ['-f', `^/usr/bin/python3 .*${counterFile(f.id)}`])).stdout.trim().split('\n').filter(Boolean);
    t.equal(copies.length, 1, `${f.what}: one copy of the workload`);
    t.equal(await imagesLeft(f.id), '', `${f.what}: no memory images left on disk (a set-aside checkpoint's are removed)`);
    await removeResource(f.id);
  }
});

const lxcState = async (node: NodeId, id: string) => (await nodeExec(node, 'lxc-info', ['-n', id, '-P', '/var/lib/lxc', '-s', '-H'])).stdout.trim();

t.test('driver=lxc: moved by stop and start there and back and by standby, resumed each time', async (t) => {
  const id = 'cosl1';
  await prepareLxcContainer(id, '10.78.0.74', '02:00:0a:4e:00:4a', 256 * 1024 * 1024);
  await createAndWait({ ...lxcResource(id, criu, { checkpoint_on_stop: 'true' }), allowMigrate: false }, 'node1');
  const first = readCounter(counterFile(id));
  const there = await moveAndMeasure(id, 'node1', 'node2');
  sameProcessContinued(t, 'lxc node1 -> node2', there.counterBefore, there.counterAfter);
  t.same([await lxcState(1, id), await lxcState(2, id)], ['STOPPED', 'RUNNING'], 'LXC owns it on node2 only');
  const back = await moveAndMeasure(id, 'node2', 'node1');
  sameProcessContinued(t, 'lxc node2 -> node1', back.counterBefore, back.counterAfter);
  const before = readCounter(counterFile(id));
  await standby('node1', true);
  await waitRunningOn(id, 'node2');
  sameProcessContinued(t, 'lxc standby node1', before, await counterSince(id, before));
  await standby('node1', false);
  t.equal(readCounter(counterFile(id))?.instance, first?.instance, 'the process started at the beginning, after three cold moves');
  t.equal(await imagesLeft(id), '', 'images removed after each resume');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
  t.same([await lxcState(1, id), await lxcState(2, id)], ['STOPPED', 'STOPPED'], 'nothing of it running after delete');
});

const targetRole = (id: string, role: 'Stopped' | 'Started') =>
  crm(1, ['crm_resource', '--resource', id, '--meta', '--set-parameter', 'target-role', '--parameter-value', role]);

async function stopThenStart(id: string, pauseMs = 0): Promise<void> {
  await targetRole(id, 'Stopped');
  await waitFor(async () => (await resourceNodes(1, id)).length === 0, { what: `${id} stopped`, timeoutMs: 60_000 });
  if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  await targetRole(id, 'Started');
  await settleOnOne(id);
}

t.test('a checkpoint older than checkpoint_max_age is set aside: the container starts afresh', async (t) => {
  const id = 'cosa1';
  await createAndWait({ ...containerResource(id, '10.78.0.76', criu, { checkpoint_on_stop: 'true', checkpoint_max_age: '2' }), allowMigrate: false }, 'node1');
  const before = readCounter(counterFile(id));
  await stopThenStart(id, 4000);
  const after = await counterSince(id, before);
  t.not(after?.instance, before?.instance, `started afresh (${before?.instance} -> ${after?.instance})`);
  t.match(await logs(), /not resuming checkpoint \S+: checkpoint \S+ is \d+ s old \(checkpoint_max_age=2\); setting it aside and starting afresh/, 'the reason is logged');
  t.equal(await imagesLeft(id), '', 'the stale checkpoint\'s memory images are removed, not kept on disk');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
});

t.test('storage=none: a stop and start on the same node resumes; a start on the other node starts afresh and retires that copy', async (t) => {
  const id = 'cosn1';
  const r = { ...containerResource(id, '10.78.0.77', criu, { checkpoint_on_stop: 'true', storage: 'none', state_dir: '/var/lib/ferry' }), allowMigrate: false };
  await createAndWait(r, 'node1');
  await crm(1, ['crm_resource', '--ban', '--resource', id, '--node', 'node2']);
  const before = readCounter(counterFile(id));
  await stopThenStart(id);
  t.same(await resourceNodes(1, id), ['node1'], 'started again on node1');
  sameProcessContinued(t, 'storage=none, stopped and started on node1', before, await counterSince(id, before));
  await clear(id);
  const moved = await moveAndMeasure(id, 'node1', 'node2');
  t.not(moved.counterAfter?.instance, before?.instance, 'on node2 it started afresh: node1\'s checkpoint never left node1');
  t.match(await logs(), /node1 holds checkpoint \S+ of cosn1, made by stop \d+ s ago \(storage=none: only node1 can resume it\); starting afresh on node2 and claiming that copy/, 'node2 said why');
  const node2Instance = moved.counterAfter?.instance;
  const back = await moveAndMeasure(id, 'node2', 'node1');
  t.not(back.counterAfter?.instance, before?.instance, 'back on node1, its old checkpoint (superseded by node2) is not resumed');
  t.not(back.counterAfter?.instance, node2Instance, 'and node2\'s own checkpoint stayed on node2: started afresh');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
});

t.test('driver=podman: moved by stop and start there and back, resumed each time', async (t) => {
  const id = 'cosp1';
  const tar = await rootfsTar();
  const ids = [await importImage(1, tar), await importImage(2, tar)];
  t.equal(ids[0], ids[1], 'the same image on both nodes');
  await createPodmanAndWait({ ...podmanResource(id, '10.78.0.75', criu, { checkpoint_on_stop: 'true' }), allowMigrate: false }, 1);
  const first = await podmanCounter(1, id);
  await move(id, 'node2');
  await waitRunningOn(id, 'node2');
  await clear(id);
  const there = await waitFor(async () => { const c = await podmanCounter(2, id); return c && c.value > (first?.value ?? 0) ? c : undefined; }, { what: 'the counter on node2', timeoutMs: 20_000 }).catch(() => undefined);
  sameProcessContinued(t, 'podman node1 -> node2', first, there);
  t.same(await podmanContainers(1, id), [], 'nothing of it left in podman on node1');
  await move(id, 'node1');
  await waitRunningOn(id, 'node1');
  await clear(id);
  const back = await waitFor(async () => { const c = await podmanCounter(1, id); return c && c.value > (there?.value ?? 0) ? c : undefined; }, { what: 'the counter on node1', timeoutMs: 20_000 }).catch(() => undefined);
  sameProcessContinued(t, 'podman node2 -> node1', there, back);
  t.equal(await imagesLeft(id), '', 'images removed after each resume');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
  t.same(await podmanContainers(1, id), [], 'nothing left in podman after delete');
});
