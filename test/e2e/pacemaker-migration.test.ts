/**
 * Live migration under a real two-node Pacemaker cluster: crm_resource --move there and back, and node
 * standby, with a TCP client connected throughout. The session must never be reset and the process's counter
 * never restart or go back.
 */
import t from 'tap';
import { crmMonResource, failedActions, labDown, labUp, nodeExec, resourceNodes, SHARED_DIR } from '../lab/lab.js';
import { deleteResource, executedOperations, standby } from '../lab/cluster.js';
import {
  containerResource, counterFile, createAndWait, criuForTests, moveAndMeasure, startClient, waitReplies, endAfterMoves, standbyWithClient,
} from '../lab/scenario.js';
import { criuFeatures } from '../lab/criu-for-tests.js';

const ID = 'e2e1';
const IP = '10.78.0.51';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  await labUp();
});
t.teardown(async () => { await labDown(); });

t.test('crmsh and crm_resource read the agent\'s metadata', async (t) => {
  const info = await nodeExec(1, 'crm', ['ra', 'info', 'ocf:ferry:container']);
  t.equal(info.exitCode, 0, 'crm ra info succeeds');
  t.match(info.stdout, /Linux container with live migration \(CRIU\) \(ocf:ferry:container\)/, 'crm ra info shows the agent');
  t.match(info.stdout, /migrate_to\s+timeout=300s/, 'and its actions');
  const meta = await nodeExec(1, 'crm_resource', ['--show-metadata', 'ocf:ferry:container']);
  t.match(meta.stdout, /<resource-agent name="container"/, 'crm_resource --show-metadata');
});

t.test('crm_resource --move node1 -> node2 -> node1 keeps the process and its TCP session', async (t) => {
  const criu = await criuForTests();
  // the default type, iterative, needs soft-dirty tracking: the nodes share this machine's kernel
  const expected = (await criuFeatures(criu)).memDirtyTrack ? 'iterative' : 'simple';
  await createAndWait(containerResource(ID, IP, criu), 'node1');
  const client = startClient(IP, 300, 'e2e-move');
  await waitReplies(client, 20);

  const there = await moveAndMeasure(ID, 'node1', 'node2');
  t.equal(there.summary.type, expected, `migrated as ${expected} (iterative ${expected === 'simple' ? 'falls back to simple: no soft-dirty on this kernel' : 'with soft-dirty on this kernel'})`);
  t.equal(there.summary.target, 'node2');
  // how long is the machine's business (bench/); that it is a part of the move, measured alongside, is the test's
  const downtime = there.summary.downtimeMs;
  t.ok(typeof downtime === 'number' && downtime > 0 && downtime <= there.wallMs,
    `downtime ${String(downtime)} ms, within the whole move as Pacemaker ran it (${there.wallMs} ms)`);
  t.equal(there.counterAfter?.instance, there.counterBefore?.instance, 'same process after the move (not restarted)');
  t.ok((there.counterAfter?.value ?? 0) > (there.counterBefore?.value ?? Infinity), 'counter went on');

  const ops = await executedOperations(ID);
  const sequence = ops.filter((o) => ['migrate_to', 'migrate_from', 'stop'].includes(o.op)).map((o) => `${o.op}@${o.node}:${o.result}`);
  const iTo = sequence.indexOf('migrate_to@node1:ok');
  const iFrom = sequence.indexOf('migrate_from@node2:ok');
  t.ok(iTo >= 0 && iFrom > iTo, `Pacemaker ran migrate_to on node1, then migrate_from on node2 (${sequence.join(', ')})`);
  t.ok(sequence.slice(iFrom).includes('stop@node1:ok'), 'then stop on node1');

  const back = await moveAndMeasure(ID, 'node2', 'node1');
  t.equal(back.counterAfter?.instance, there.counterBefore?.instance, 'still the same process after moving back');

  const { summary: c, afterMoves } = await endAfterMoves(client);
  t.same(c.errors, [], 'the TCP session was never reset');
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.ok(c.replies >= afterMoves + 20, `the client kept talking after both moves (${c.replies} replies, ${afterMoves} before the last 20; longest pause ${c.max_gap_ms} ms)`);
  t.same(await failedActions(1), [], 'crm_mon shows no failed actions');
  const leftovers = await nodeExec(1, 'ls', ['-A', `${SHARED_DIR}/${ID}/images`]);
  t.equal(leftovers.stdout.trim(), '', 'images removed after success');
  const modes = await nodeExec(1, 'stat', ['-c', '%n %a', `${SHARED_DIR}/${ID}`, `${SHARED_DIR}/${ID}/images`, `${SHARED_DIR}/${ID}/migration.json`, `${SHARED_DIR}/${ID}/last-migration.json`]);
  t.same(modes.stdout.trim().split('\n').map((l) => l.split(' ')[1]), ['700', '700', '600', '600'], 'state kept private (0700 dirs, 0600 files)');
});

t.test('standby node1 evacuates the container live to node2', async (t) => {
  const { before, after, summary: c } = await standbyWithClient(ID, IP, 'e2e-standby');
  t.equal(after?.instance, before?.instance, 'same process on node2');
  t.same(c.errors, [], 'TCP session kept during the evacuation');
  t.ok(c.counter_monotonic, 'counter never went back');
  await standby('node1', false);
  t.same(await failedActions(1), [], 'no failed actions');
  t.same(await resourceNodes(1, ID), ['node2'], 'runs on node2 only');
  await deleteResource(ID);
  t.equal(await crmMonResource(1, ID), undefined, 'resource gone from the cluster');
  for (const n of [1, 2] as const) {
    const left = await nodeExec(n, 'pgrep', ['-f', counterFile(ID)]);
    t.equal(left.stdout.trim(), '', `no workload process left (seen from node${n})`);
  }
});
