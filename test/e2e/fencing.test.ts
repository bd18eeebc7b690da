/**
 * #14, node crashes under real fencing: the lab runs with a fence device (test/lab/fence_ferrylab, driven by
 * Pacemaker's fencer) and stonith-enabled=true. A node is powered off (lab.sh power-off: every process of it,
 * its containers too, SIGKILLed, its addresses gone) at a chosen point of a live migration under
 * `crm_resource --move`, with a TCP client connected. The survivor's fencer must fence the lost node, and the
 * container must end on exactly one surviving node: the same process with its counter continued where a complete
 * checkpoint existed, a fresh start, said in the log, where none did. The dead node then boots again, and after a
 * cleanup crm_mon shows no failure and the container where it was.
 * The points are held by the lab's CRIU wrapper (dump-slow, restore-slow: 30 s pauses) or watched in the record.
 *
 * Then the same points with the dedicated migration link (mn0) dying instead of a node, the back-channel up: with
 * storage=none, where the checkpoint crosses that link and the claims and retirements are asked over it first. No
 * node may be fenced for it, and the container must end on one node as the same process.
 */
import t from 'tap';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  crm, failedActions, labDown, labUp, nodeExec, pacemakerLog, powerOff, powerOn, powerState, resourceNodes, SHARED_DIR, waitFor, type NodeId,
} from '../lab/lab.js';
import { createResource, move, settled, standby, type ContainerResource } from '../lab/cluster.js';
import { setFault, useFaultWrapper } from '../lab/faults.js';
import { containerResource, counterFile, criuForTests, readCounter, settleOnOne, startClient, waitReplies, type Counter } from '../lab/scenario.js';
import { lxcResource, prepareLxcContainer } from '../lab/lxc-container.js';
import { importImage, podmanContainers, podmanCounter, podmanResource, rootfsTar } from '../lab/podman-lab.js';

let wrapper = '';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  wrapper = useFaultWrapper(await criuForTests());
});
// FERRY_LAB_KEEP=1 leaves the last lab up for inspection (its logs under FERRY_LAB_DIR)
t.teardown(async () => { if (!process.env.FERRY_LAB_KEEP) await labDown(); });

/** Each point from a freshly built lab (about 5 s): no scenario inherits a node that was power-cycled. */
async function freshCluster(): Promise<void> {
  await labUp({ fencing: true });
  // a container stays where it runs unless moved: without stickiness the default placement spreads resources, and
  // would move it back across once the move's constraint is cleared
  await crm(1, ['crm_attribute', '--type', 'rsc_defaults', '--name', 'resource-stickiness', '--update', '100']);
}

const other = (n: NodeId): NodeId => (n === 1 ? 2 : 1);

/** The workload's processes, from the host (a powered-off node cannot be asked). */
async function copies(id: string): Promise<number> {
  const r = await execa('pgrep', ['-f', `^/usr/bin/python3 .*${counterFile(id)}`], { reject: false });
  return r.stdout.split('\n').filter(Boolean).length;
}

async function fencedBy(survivor: NodeId, victim: NodeId): Promise<string> {
  return waitFor(async () => {
    const r = await nodeExec(survivor, 'stonith_admin', ['--history', `node${victim}`]);
    return /reboot of node\d successful|off of node\d successful/.exec(r.stdout)?.[0];
  }, { what: `node${victim} fenced`, timeoutMs: 90_000, intervalMs: 500 });
}

/** The resource's last migration record (id and phase), as the shared state_dir holds it. */
const recordOf = (id: string): { id: string; phase: string } | undefined => {
  try { return JSON.parse(readFileSync(join(SHARED_DIR, id, 'migration.json'), 'utf8')) as { id: string; phase: string }; } catch { return undefined; }
};

interface Point {
  name: string;
  victim: NodeId;
  /** Sets up the hold (a fault) and resolves once the migration has reached the point. */
  reach(id: string): Promise<void>;
  /** Whether a complete checkpoint exists when the victim dies: resumed, else a fresh start. */
  resumes: boolean;
  /** The line of the survivor's log that says what became of the container. */
  said: RegExp;
}

/** Moves `id` to node2 and returns once the shared record says this move restored it there. */
async function moveUntilRestored(id: string): Promise<void> {
  const earlier = recordOf(id)?.id;
  await move(id, 'node2');
  // this move's record, not an earlier one's (a stale "restored" would cut the power before the move began)
  await waitFor(() => { const r = recordOf(id); return r && r.id !== earlier && r.phase === 'restored' ? true : undefined; },
    { what: `${id} restored on node2`, timeoutMs: 90_000, intervalMs: 20 });
}

const reachedFault = (node: NodeId, fault: 'dump-slow' | 'restore-slow') => waitFor(async () =>
  ((await nodeExec(node, 'test', ['-e', `/run/ferry-fault/${fault}.reached`])).exitCode === 0 ? true : undefined),
{ what: `${fault} reached on node${node}`, timeoutMs: 90_000, intervalMs: 100 });

const POINTS: Point[] = [
  {
    name: 'the source dies during the dump',
    victim: 1,
    reach: async (id) => { await setFault(1, 'dump-slow', true); await move(id, 'node2'); await reachedFault(1, 'dump-slow'); },
    resumes: false,
    said: /afresh: the dump of migration \S+ on node1 never completed/,
  },
  {
    name: 'the source dies after its dump, before the target restored',
    victim: 1,
    reach: async (id) => { await setFault(2, 'restore-slow', true); await move(id, 'node2'); await reachedFault(2, 'restore-slow'); },
    resumes: true,
    said: /restoring \S+ from checkpoint \S+ \(migrate/,
  },
  {
    name: 'the target dies during the restore',
    victim: 2,
    reach: async (id) => { await setFault(2, 'restore-slow', true); await move(id, 'node2'); await reachedFault(2, 'restore-slow'); },
    resumes: true,
    said: /resuming \S+ from checkpoint \S+ of an unfinished migration/,
  },
  {
    name: 'the target dies after it restored, before migrate_from returned',
    victim: 2,
    reach: (id) => moveUntilRestored(id),
    resumes: false,
    said: /afresh: the last migration \(\S+\) was restored on node2, its checkpoint spent/,
  },
];

/** storage=none keeps each node's checkpoints in its own state_dir (the lab's nodes have their own /var/lib). */
const LOCAL_STATE = '/var/lib/ferry';

async function nodeRecord(node: NodeId, id: string): Promise<{ id: string; phase: string } | undefined> {
  const r = await nodeExec(node, 'cat', [join(LOCAL_STATE, id, 'migration.json')]);
  try { return r.exitCode === 0 ? JSON.parse(r.stdout) as { id: string; phase: string } : undefined; } catch { return undefined; }
}

/** Checkpoint image sets a node still holds of `id` (complete or partial). */
async function imagesOn(node: NodeId, id: string): Promise<string[]> {
  const r = await nodeExec(node, 'sh', ['-c', 'ls -A "$1/images" 2>/dev/null || true', 'sh', join(LOCAL_STATE, id)]);
  return r.stdout.split('\n').filter(Boolean);
}

const mn0 = (node: NodeId, state: 'up' | 'down') => nodeExec(node, 'ip', ['link', 'set', 'mn0', state]);

/** `said`: what node1's log must say of the link, where the point changes the images' path. */
interface LinkPoint { name: string; reach(id: string): Promise<void>; said?: RegExp }

const LINK_POINTS: LinkPoint[] = [
  {
    // before, migrate_to failed on the dead link (EHOSTUNREACH) with the back-channel up: Pacemaker's recovery
    // then resumed the checkpoint on node1, after a failed start on node2
    name: 'during the dump, before the images cross it',
    reach: async (id) => { await setFault(1, 'dump-slow', true); await move(id, 'node2'); await reachedFault(1, 'dump-slow'); },
    said: /failed before any image crossed it .*: sending over the back-channel \(node2, 10\.78\.0\.2\) instead/,
  },
  {
    name: 'after the images crossed it, while the target restores',
    reach: async (id) => { await setFault(2, 'restore-slow', true); await move(id, 'node2'); await reachedFault(2, 'restore-slow'); },
  },
  {
    name: 'after the target restored, before migrate_from returned',
    reach: async (id) => {
      const earlier = (await nodeRecord(2, id))?.id;
      await move(id, 'node2');
      await waitFor(async () => { const r = await nodeRecord(2, id); return r && r.id !== earlier && r.phase === 'restored' ? true : undefined; },
        { what: `${id} restored on node2`, timeoutMs: 90_000, intervalMs: 20 });
    },
  },
];

/** Creates the resource and waits until it runs on node1 (the move under test is then its first). */
async function createOnNode1(resource: ContainerResource): Promise<void> {
  // stop_unexpected: a node lost mid-migration leaves Pacemaker unsure whether the container is on the source
  // or the target; the default (stop_start) then restarts the one that completed the move, losing its state
  // started on node1 from the first (node2 in standby meanwhile)
  await standby('node2', true);
  await createResource({ ...resource, meta: { 'multiple-active': 'stop_unexpected' } });
  await waitFor(async () => ((await resourceNodes(1, resource.id))[0] === 'node1' && (await settled()) ? true : undefined), { what: `${resource.id} started on node1`, timeoutMs: 120_000 });
  await standby('node2', false);
}

/** A native container started on node1, counting, with a TCP client connected; returns the client and the counter then. */
async function runningOnNode1(id: string, ip: string, params: Record<string, string>): Promise<{ client: ReturnType<typeof startClient>; before: Counter }> {
  await createOnNode1(containerResource(id, ip, wrapper, { stop_timeout: '3', ...params }));
  await waitFor(() => ((readCounter(counterFile(id))?.value ?? 0) > 2 ? true : undefined), { what: `${id}'s counter`, timeoutMs: 20_000 });
  // the holds freeze the container for 30 s and more: the client waits for a reply as long as TCP retries
  const client = startClient(ip, 600, id, { replyTimeoutS: 120 });
  await waitReplies(client, 20);
  // the probes of the new resource done: a move while one is pending is refused ("Multiple items match request")
  await waitFor(async () => ((await settled()) ? true : undefined), { what: 'cluster idle', timeoutMs: 60_000, intervalMs: 200 });
  return { client, before: readCounter(counterFile(id)) as Counter };
}

/** Stops and deletes the resource (from `node`), so that the next point's cluster is built without it. */
async function removeFrom(node: NodeId, id: string): Promise<void> {
  await crm(node, ['crm_resource', '--resource', id, '--meta', '--set-parameter', 'target-role', '--parameter-value', 'Stopped']);
  await waitFor(async () => ((await resourceNodes(node, id)).length === 0 ? true : undefined), { what: `${id} stopped`, timeoutMs: 60_000 });
  await crm(node, ['cibadmin', '--delete', '--xml-text', `<primitive id="${id}"/>`]);
}

for (const [i, point] of POINTS.entries()) {
  t.test(`${point.name}: fenced, then on one surviving node${point.resumes ? ', the same process' : ', started afresh'}`, async (t) => {
    const id = `crash${i}`;
    const ip = `10.78.0.${70 + i}`;
    const survivor = other(point.victim);
    await freshCluster();
    const { client, before } = await runningOnNode1(id, ip, {});
    t.teardown(() => client.stop());

    await point.reach(id);
    await powerOff(point.victim);
    // a hold already under way goes on; no later operation of the survivor's must be held
    await setFault(survivor, 'restore-slow', false);
    t.equal(await powerState(point.victim), 'off', `node${point.victim} powered off ${point.name.replace(/^the \w+ dies /, '')}`);
    t.pass(`the fencer: ${await fencedBy(survivor, point.victim)}`);

    const where = await settleOnOne(id, survivor, 180_000);
    t.same(where, [`node${survivor}`], `Pacemaker runs ${id} on node${survivor} only`);
    t.equal(await copies(id), 1, 'exactly one copy of the workload exists');
    const after = await waitFor(() => { const c = readCounter(counterFile(id)); return c && (c.instance !== before.instance || c.value > before.value) ? c : undefined; },
      { what: `${id}'s counter written since`, timeoutMs: 30_000, intervalMs: 200 });
    if (point.resumes) {
      t.equal(after.instance, before.instance, 'the same process: resumed from its complete checkpoint');
      t.ok(after.value > before.value, `the counter continued (${before.value} -> ${after.value})`);
    } else {
      t.not(after.instance, before.instance, 'a fresh start: no complete checkpoint existed');
    }
    t.match(await pacemakerLog(survivor, 400), point.said, `node${survivor}'s log says so`);
    client.stop();
    const c = await client.done.catch(() => undefined);
    if (point.resumes) t.same(c?.errors ?? ['no client summary'], [], 'the TCP session survived the crash and the move');
    t.comment(`client: ${c?.replies ?? '?'} replies, longest pause ${c?.max_gap_ms ?? '?'} ms, errors ${JSON.stringify(c?.errors ?? [])}`);

    // the dead node boots again; a cleanup, and the cluster is clean with the container where it is (the move's
    // constraint cleared first, or Pacemaker would move it back to a target that came back)
    await crm(survivor, ['crm_resource', '--clear', '--resource', id]);
    await powerOn(point.victim);
    await crm(survivor, ['crm_resource', '--cleanup']);
    t.same(await settleOnOne(id, survivor, 180_000), [`node${survivor}`], `after node${point.victim} is back and a cleanup: still on node${survivor} only`);
    t.equal(await copies(id), 1, 'still one copy');
    t.same(await failedActions(survivor), [], 'crm_mon: no failed actions');
    await removeFrom(survivor, id);
  });
}

for (const [i, point] of LINK_POINTS.entries()) {
  t.test(`storage=none, the migration link dies ${point.name}: nobody fenced, the same process on the target`, async (t) => {
    const id = `cut${i}`;
    const ip = `10.78.0.${80 + i}`;
    await freshCluster();
    const { client, before } = await runningOnNode1(id, ip, { storage: 'none', state_dir: LOCAL_STATE, migration_type: 'simple' });
    t.teardown(() => client.stop());

    await point.reach(id);
    await mn0(2, 'down'); // a veth pair: node1's end loses its carrier too
    await setFault(1, 'dump-slow', false);
    await setFault(2, 'restore-slow', false);
    const where = await settleOnOne(id, undefined, 180_000);
    t.same(where, ['node2'], `the move completes: Pacemaker runs ${id} on node2 only (${where.join(', ')})`);
    t.equal(await copies(id), 1, 'exactly one copy of the workload exists');
    const after = await waitFor(() => { const c = readCounter(counterFile(id)); return c && c.value > before.value ? c : undefined; },
      { what: `${id}'s counter written since`, timeoutMs: 30_000, intervalMs: 200 });
    t.equal(after.instance, before.instance, 'the same process, moved');
    for (const n of [1, 2] as const) {
      const history = (await nodeExec(n, 'stonith_admin', ['--history', '*'])).stdout;
      t.notMatch(history, /successful/, `node${n}'s fencer fenced no one (the back-channel stayed up)`);
    }
    const runsOn = where[0] === 'node1' ? 1 : 2;
    const other = runsOn === 1 ? 2 : 1;
    // the node that does not run it keeps no copy of its memory: retired over the back-channel, or swept
    await waitFor(async () => ((await imagesOn(other, id)).length === 0 ? true : undefined), { what: `node${other} without images of ${id}`, timeoutMs: 90_000 })
      .catch(() => undefined);
    t.same(await imagesOn(other, id), [], `node${other}, which does not run it, holds no checkpoint of it`);
    client.stop();
    const c = await client.done.catch(() => undefined);
    t.same(c?.errors ?? ['no client summary'], [], 'the TCP session survived');
    t.comment(`ended on ${where.join(', ')}; client: ${c?.replies ?? '?'} replies, longest pause ${c?.max_gap_ms ?? '?'} ms`);
    const said = `${await pacemakerLog(1, 3000)}\n${await pacemakerLog(2, 3000)}`.split('\n')
      .filter((l) => l.includes(id) && /back-channel|mn|cannot be reached|failed|falls? back/i.test(l));
    t.comment(`what the nodes logged of the link:\n${said.slice(-12).join('\n')}`);
    if (point.said) t.match(said.join('\n'), point.said, 'node1 says the images took the back-channel, and why');

    await mn0(2, 'up');
    await crm(runsOn, ['crm_resource', '--clear', '--resource', id]);
    await crm(runsOn, ['crm_resource', '--cleanup']);
    t.same(await settleOnOne(id, undefined, 180_000), where, 'after the link is back and a cleanup: where it was');
    t.same(await failedActions(runsOn), [], 'crm_mon: no failed actions');
    await removeFrom(runsOn, id);
  });
}

/** The LXC container's counter servers on this machine (every node's): those in its LXC cgroup. */
async function lxcCopies(id: string): Promise<number> {
  const r = await execa('sh', ['-c', 'for p in $(pgrep -f "server.py /srv/ferry/counter"); do grep -h ":memory:" /proc/$p/cgroup; done'], { reject: false });
  return r.stdout.split('\n').filter((line) => new RegExp(`/lxc\\.payload\\.${id}(-[0-9]+)?$`).test(line.trim())).length;
}

/**
 * An LXC container has mount and network namespaces of its own, so the node's power-off does not find its
 * processes by namespace; they die with LXC's monitor (the container's init has it as its parent-death signal's
 * source), and the power-off kills what descends from the node's processes too (podman below).
 */
t.test('LXC: the target dies after it restored, before migrate_from returned: fenced, one copy, started afresh on the source', async (t) => {
  const id = 'lxcx';
  await freshCluster();
  await prepareLxcContainer(id, '10.78.0.90', '02:00:0a:4e:00:5a');
  await createOnNode1(lxcResource(id, wrapper));
  await waitFor(() => ((readCounter(counterFile(id))?.value ?? 0) > 2 ? true : undefined), { what: `${id}'s counter`, timeoutMs: 30_000 });
  await waitFor(async () => ((await settled()) ? true : undefined), { what: 'cluster idle', timeoutMs: 60_000, intervalMs: 200 });
  const before = readCounter(counterFile(id)) as Counter;
  await moveUntilRestored(id);
  await powerOff(2);
  t.equal(await powerState(2), 'off', 'node2 powered off after its restore');
  t.equal(await lxcCopies(id), 0, 'nothing of the container runs on once its node is off: the restored copy died with node2');
  t.pass(`the fencer: ${await fencedBy(1, 2)}`);
  t.same(await settleOnOne(id, 1, 180_000), ['node1'], `Pacemaker runs ${id} on node1 only`);
  t.equal(await lxcCopies(id), 1, 'exactly one copy of the workload exists');
  const after = await waitFor(() => { const c = readCounter(counterFile(id)); return c && c.instance !== before.instance ? c : undefined; },
    { what: `${id} started afresh`, timeoutMs: 30_000, intervalMs: 200 });
  t.not(after.instance, before.instance, 'a fresh start: the checkpoint was spent on node2');
  t.match(await pacemakerLog(1, 400), /afresh: the last migration \(\S+\) was restored on node2, its checkpoint spent/, 'node1\'s log says so');
  await crm(1, ['crm_resource', '--clear', '--resource', id]);
  await powerOn(2);
  await crm(1, ['crm_resource', '--cleanup']);
  t.same(await settleOnOne(id, 1, 180_000), ['node1'], 'after node2 is back and a cleanup: still on node1 only');
  t.equal(await lxcCopies(id), 1, 'still one copy');
  t.same(await failedActions(1), [], 'crm_mon: no failed actions');
  await removeFrom(1, id);
});

/** Counter servers of any container on this machine (every node's): the lab runs one container in this test. */
async function counterServers(): Promise<number> {
  const r = await execa('pgrep', ['-f', 'server.py /srv/ferry/counter'], { reject: false });
  return r.stdout.split('\n').filter(Boolean).length;
}

/**
 * A podman container's processes have namespaces of their own and descend from conmon, which runc does not tie
 * them to: killed with the node's own namespaces only, conmon died and the container ran on, on a node that was
 * "off", answering on the network, while Pacemaker started a second copy on the survivor.
 */
t.test('podman: the node that runs it dies: fenced, nothing of it left there, one copy on the survivor', async (t) => {
  const id = 'podx';
  await freshCluster();
  const tar = await rootfsTar();
  const images = [await importImage(1, tar), await importImage(2, tar)];
  t.equal(images[0], images[1], 'the same image on both nodes');
  await createOnNode1(podmanResource(id, '10.78.0.91', wrapper));
  const before = await waitFor(async () => { const c = await podmanCounter(1, id); return c && c.value > 2 ? c : undefined; }, { what: `${id}'s counter`, timeoutMs: 30_000 });
  await waitFor(async () => ((await settled()) ? true : undefined), { what: 'cluster idle', timeoutMs: 60_000, intervalMs: 200 });
  t.equal(await counterServers(), 1, 'one copy runs, on node1');
  await powerOff(1);
  t.equal(await powerState(1), 'off', 'node1 powered off');
  t.equal(await counterServers(), 0, 'nothing of the container runs on once its node is off');
  t.pass(`the fencer: ${await fencedBy(2, 1)}`);
  t.same(await settleOnOne(id, 2, 180_000), ['node2'], `Pacemaker runs ${id} on node2 only`);
  t.equal(await counterServers(), 1, 'exactly one copy of the workload exists');
  const after = await waitFor(async () => podmanCounter(2, id), { what: `${id} counting on node2`, timeoutMs: 30_000, intervalMs: 500 });
  t.not(after.instance, before.instance, 'started afresh (no migration was under way)');
  t.match((await podmanContainers(2, id)).join(), new RegExp(`^${id} Up`), 'podman runs it on node2');
  await powerOn(1);
  await crm(2, ['crm_resource', '--cleanup']);
  t.same(await settleOnOne(id, 2, 180_000), ['node2'], 'after node1 is back and a cleanup: still on node2 only');
  t.equal(await counterServers(), 1, 'still one copy');
  t.same(await failedActions(2), [], 'crm_mon: no failed actions');
  await removeFrom(2, id);
});
