/**
 * driver=lxc with storage=none under the real two-node Pacemaker lab: the container's root filesystem is on
 * node1's own disk only (/var/lib/lxc/ID/rootfs, node-private), and moves with it. crm_resource --move
 * node1 -> node2 -> node1 with a TCP client connected: the tree goes over while the container runs, what changed
 * goes while it is frozen, the target's copy becomes its root filesystem, the source's is set aside. The session
 * is never reset, the same process goes on with its counter, a file written inside before the move is there
 * after it, and the figures say what the final sync added to the downtime.
 */
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { failedActions, LAB_DIR, labDown, labUp, nodeExec, pacemakerLog, type NodeId } from '../lab/lab.js';
import { clear, move } from '../lab/cluster.js';
import { agent } from '../lab/agent-in-node.js';
import { counterFile, createAndWait, criuForTests, endAfterMoves, readCounter, removeResource, settleOnOne, startClient, waitReplies, waitRunningOn } from '../lab/scenario.js';
import { setFault, useFaultWrapper } from '../lab/faults.js';
import { lxcConfigText, lxcResource, writeNodeConfig } from '../lab/lxc-container.js';

const ID = 'lxcn1';
const IP = '10.78.0.66';
const MAC = '02:00:0a:4e:00:42';
const STATE = '/var/lib/ferry';
const ROOT = `/var/lib/lxc/${ID}/rootfs`;
const BALLAST_FILES = 1200;
const BALLAST_KIB = 128;
let criu = '';

/** The root filesystem's place on the host, for node n (each node's /var/lib/lxc is its own). */
const hostPath = (n: NodeId, rel = '') => join(LAB_DIR, `node${n}`, 'lib-lxc', ID, rel ? `rootfs/${rel}` : 'rootfs');
const lxc = (node: NodeId, tool: string, args: string[]) => nodeExec(node, tool, ['-n', ID, '-P', '/var/lib/lxc', ...args]);
const inContainer = (node: NodeId, command: string) => lxc(node, 'lxc-attach', ['--', '/bin/sh', '-c', command]);
const siblings = (n: NodeId) => readdirSync(join(LAB_DIR, `node${n}`, 'lib-lxc', ID)).filter((e) => e.startsWith('rootfs')).sort();

/** The lab's counter link follows the copy the container runs from. */
function counterOn(n: NodeId): void {
  rmSync(counterFile(ID), { force: true });
  symlinkSync(hostPath(n, 'srv/ferry/counter'), counterFile(ID));
}

async function sourceRootfs(): Promise<string> {
  if (process.env.FERRY_TEST_ROOTFS) return process.env.FERRY_TEST_ROOTFS;
  const r = await execa('sh', [join(process.cwd(), 'test', 'lab', 'build-rootfs.sh')]);
  return r.stdout.split('\n')[0] ?? '';
}

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  criu = await criuForTests();
  await labUp();
  const config = lxcConfigText({ id: ID, ip: IP, mac: MAC, memoryBytes: 256 * 1024 * 1024, rootfs: ROOT });
  for (const n of [1, 2] as const) writeNodeConfig(n, ID, config);
  // the root filesystem on node1 only, a few hundred MiB of it
  await execa('cp', ['-a', await sourceRootfs(), hostPath(1)]);
  mkdirSync(hostPath(1, 'var/ballast'));
  const chunk = Buffer.alloc(BALLAST_KIB * 1024, 7);
  for (let i = 0; i < BALLAST_FILES; i++) writeFileSync(hostPath(1, `var/ballast/f${i}`), chunk);
  counterOn(1);
});
t.teardown(async () => { await labDown(); });

t.test('validate-all accepts it on both nodes; a start where the root filesystem is not says where it is', async (t) => {
  const params = lxcResource(ID, criu, { storage: 'none', state_dir: STATE }).params;
  for (const n of [1, 2] as const) {
    const r = await agent(n, 'validate-all', params, { allow_migrate: 'true' });
    t.equal(r.code, 0, `node${n}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
  const start = await agent(2, 'start', params);
  t.equal(start.code, 5, 'node2 has no root filesystem: not installed here (5), so Pacemaker keeps it off node2');
  t.match(start.stderr, /ocf-exit-reason:the root filesystem \/var\/lib\/lxc\/lxcn1\/rootfs of lxcn1 is not on this node/);
});

t.test('moved node1 -> node2 -> node1 with its root filesystem: same process, session kept, file kept, source set aside', async (t) => {
  await createAndWait(lxcResource(ID, criu, { storage: 'none', state_dir: STATE }), 'node1');
  t.equal((await inContainer(1, 'echo written-before-the-move > /root/marker && cat /root/marker')).stdout.trim(), 'written-before-the-move');
  const client = startClient(IP, 300, 'lxc-none');
  await waitReplies(client, 20);
  const figures: string[] = [];
  for (const [from, to] of [[1, 2], [2, 1]] as [NodeId, NodeId][]) {
    const before = readCounter(counterFile(ID));
    await move(ID, `node${to}`);
    await waitRunningOn(ID, `node${to}`);
    await clear(ID);
    counterOn(to);
    const summary = JSON.parse((await nodeExec(to, 'cat', [join(STATE, ID, 'last-migration.json')])).stdout) as { downtimeMs: number; id: string };
    const record = JSON.parse((await nodeExec(from, 'cat', [join(STATE, ID, 'migration.json')])).stdout) as { id: string; files?: { preSync?: { ms: number; bytes: number }; finalSync?: { ms: number; bytes: number; changed: number; removed: number } } };
    const f = record.files;
    t.ok(f?.preSync && f.finalSync, `node${from} -> node${to}: the record has both syncs`);
    figures.push(`node${from} -> node${to}: downtime ${summary.downtimeMs} ms, of it final sync ${f?.finalSync?.ms} ms (${f?.finalSync?.changed} paths, `
      + `${f?.finalSync?.bytes} bytes of tar, ${f?.finalSync?.removed} removed); pre-sync ${((f?.preSync?.bytes ?? 0) / 1048576).toFixed(0)} MiB in ${f?.preSync?.ms} ms while running`);
    t.ok((f?.finalSync?.bytes ?? Infinity) < 16 * 1048576, 'the final sync carried what changed, not the tree again');
    await t.resolves(waitCounter(before), 'the counter continues');
    const after = readCounter(counterFile(ID));
    t.equal(after?.instance, before?.instance, `node${to}: the same process`);
    t.equal((await inContainer(to, 'cat /root/marker')).stdout.trim(), 'written-before-the-move', `node${to}: the file written before the move is there`);
    t.equal((await inContainer(to, `ls /var/ballast | wc -l`)).stdout.trim(), String(BALLAST_FILES), `node${to}: every ballast file arrived`);
    t.same(siblings(to), ['rootfs'], `node${to}: the copy is its root filesystem, nothing else left beside it`);
    t.same(siblings(from), [`rootfs.ferry-moved-${summary.id}`], `node${from}: its root filesystem set aside (not deleted) once node${to} restored`);
  }
  for (const line of figures) t.comment(line);
  const { summary: c, afterMoves } = await endAfterMoves(client);
  t.same(c.errors, [], 'the TCP session was never reset');
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.ok(c.replies >= afterMoves + 20, `the client kept talking (${c.replies} replies, longest pause ${c.max_gap_ms} ms)`);
  t.same(await failedActions(1), [], 'crm_mon shows no failed actions');
  await removeResource(ID);
  t.notOk(existsSync(hostPath(2)), 'node2 holds no root filesystem of it after moving back');
});

t.test('the restore fails on node2: it ends on node1 from its own checkpoint and tree, node2 keeps nothing', async (t) => {
  const wrapper = useFaultWrapper(criu);
  // the container that ran before left its counter: this one's must be its own
  rmSync(hostPath(1, 'srv/ferry/counter'), { force: true });
  counterOn(1);
  await createAndWait(lxcResource(ID, wrapper, { storage: 'none', state_dir: STATE }), 'node1');
  const before = readCounter(counterFile(ID));
  await setFault(2, 'restore-fails', true);
  let where: string[];
  try {
    await move(ID, 'node2');
    where = await settleOnOne(ID);
  } finally {
    await setFault(2, 'restore-fails', false);
  }
  t.same(where, ['node1'], 'Pacemaker ends with it on node1 only');
  counterOn(1);
  await t.resolves(waitCounter(before), 'the counter continues');
  t.equal(readCounter(counterFile(ID))?.instance, before?.instance, 'the same process, resumed from node1\'s checkpoint');
  t.same(siblings(1), ['rootfs'], 'node1 runs it from its own tree, never set aside');
  const left = siblings(2);
  t.same(left, [], 'node2\'s copy went once node1 had restored: no root filesystem there, nothing to start from');
  if (left.length) {
    // seen in about one CI run in three, never alone: what both nodes said of the copies, for whoever reads the log
    for (const n of [1, 2] as const) {
      const said = (await pacemakerLog(n, 3000)).split('\n').filter((l) => l.includes(ID) && /cop(y|ies)|retir|restored|claim|incoming|release/i.test(l));
      t.comment(`node${n}:\n${said.slice(-25).join('\n')}`);
    }
  }
  t.equal((await inContainer(1, 'cat /root/marker')).stdout.trim(), 'written-before-the-move', 'the file is there');
  await removeResource(ID);
});

async function waitCounter(before: ReturnType<typeof readCounter>): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const now = readCounter(counterFile(ID));
    if (now && before && now.value > before.value) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the counter did not move within 20 s');
}
