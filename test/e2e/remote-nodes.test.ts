/**
 * Containers on Pacemaker Remote nodes: two full nodes and two remote nodes (pacemaker-remoted, each with its
 * `ferry serve`), as clusters past corosync's size run them. A container moves live remote1 -> remote2 (over the
 * remotes' migration network) and remote2 -> node1 (no migration network between them: the back-channel, logged)
 * with a TCP client connected, then a remote node is drained live by standby. Pacemaker runs migrate_to through
 * one pacemaker-remoted and migrate_from through the other.
 */
import t from 'tap';
import { crm, failedActions, labDown, labUp, nodeExec, pacemakerLog, resourceNodes, waitFor, type NodeId } from '../lab/lab.js';
import { clear, executedOperations, move, standby } from '../lab/cluster.js';
import {
  clientReplies, containerResource, counterFile, createAndWait, criuForTests, endAfterMoves, moveAndMeasure, readCounter,
  removeResource, startClient, txBytes, waitReplies, waitRunningOn,
} from '../lab/scenario.js';
import { hostInterfaceName } from '../../src/runtime/naming.js';

const ID = 'rem1';
const IP = '10.78.0.61';
let criu = '';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  criu = await criuForTests();
  await labUp({ remotes: true, timeoutMs: 240_000 });
});
t.teardown(async () => { await labDown(); });

t.test('the lab has two full and two remote nodes, each remote with its helper', async (t) => {
  const xml = await crm(1, ['crm_mon', '-1', '--output-as=xml']);
  for (const n of ['remote1', 'remote2']) {
    t.match(xml, new RegExp(`<node name="${n}"[^>]* online="true"[^>]* type="remote"`), `${n} is an online remote node`);
  }
  const health = await nodeExec(3, 'ss', ['-Htln']);
  t.match(health.stdout, /10\.78\.0\.3:7787/, 'remote1\'s ferry serve listens on its back-channel address');
  t.match(health.stdout, /10\.79\.0\.3:7787/, 'and on its migration-network address');
});

t.test('remote1 -> remote2 -> node1, live, with a client connected', async (t) => {
  await createAndWait(containerResource(ID, IP, criu), 'remote1');
  const client = startClient(IP, 300, 'remote-move');
  await waitReplies(client, 20);

  const bridgeBefore = await macOf(3, 'br0');
  t.match(await macOf(3, hostInterfaceName(ID)), /^fe:/, 'the container\'s host-side veth has a MAC no bridge takes (fe:...)');
  const there = await moveAndMeasure(ID, 'remote1', 'remote2');
  t.equal(await macOf(3, 'br0'), bridgeBefore, 'remote1\'s bridge kept its address when the container\'s veth left');
  t.match(await macOf(4, hostInterfaceName(ID)), /^fe:/, 'and the veth CRIU re-created on remote2 got one too');
  t.equal(there.summary.source, 'remote1', 'migrated from remote1');
  t.equal(there.summary.target, 'remote2', 'to remote2');
  t.equal(there.counterAfter?.instance, there.counterBefore?.instance, 'the same process on remote2');
  t.ok((there.counterAfter?.value ?? 0) > (there.counterBefore?.value ?? Infinity), 'its counter went on');
  const ops = (await executedOperations(ID)).map((o) => `${o.op}@${o.node}:${o.result}`);
  t.ok(ops.includes('migrate_to@remote1:ok') && ops.includes('migrate_from@remote2:ok'),
    `Pacemaker migrated it: migrate_to on remote1, migrate_from on remote2 (${ops.join(', ')})`);
  t.match(await pacemakerLog(3, 3000), /migration traffic to remote2 goes to remote2\.mn/, 'over the remotes\' migration network');

  const back = await moveAndMeasure(ID, 'remote2', 'node1');
  t.equal(back.summary.target, 'node1', 'then to node1, a full node');
  t.equal(back.counterAfter?.instance, there.counterBefore?.instance, 'still the same process');
  t.match(await pacemakerLog(4, 3000), /migration traffic to node1 goes to node1 \(/,
    'no migration network joins remote2 and node1: the back-channel, said in the log');

  const { summary: c, afterMoves } = await endAfterMoves(client);
  t.same(c.errors, [], 'the TCP session was never reset');
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.ok(c.replies >= afterMoves + 20, `the client kept talking after both moves (longest pause ${c.max_gap_ms} ms)`);
  t.same(await failedActions(1), [], 'no failed actions');
});

t.test('standby remote1 drains its container live', async (t) => {
  await moveAndMeasure(ID, 'node1', 'remote1');
  await waitRunningOn(ID, 'remote1');
  const before = readCounter(counterFile(ID));
  const client = startClient(IP, 300, 'remote-drain');
  await waitReplies(client, 20);
  await standby('remote1', true);
  const where = await waitFor(async () => {
    const w = await resourceNodes(1, ID);
    return w.length === 1 && w[0] !== 'remote1' ? w : undefined;
  }, { what: `${ID} off remote1`, timeoutMs: 120_000 });
  await waitReplies(client, 20, clientReplies(client));
  client.stop();
  const summary = await client.done;
  t.equal(readCounter(counterFile(ID))?.instance, before?.instance, `the same process on ${where[0] ?? '?'}`);
  const ops = (await executedOperations(ID)).map((o) => `${o.op}@${o.node}:${o.result}`);
  t.ok(ops.filter((o) => o === 'migrate_to@remote1:ok').length >= 2, 'moved by migration, not restarted');
  t.same(summary.errors, [], 'TCP session kept');
  await standby('remote1', false);
  await removeResource(ID);
});

/** An interface's MAC address on a node. */
async function macOf(node: NodeId, dev: string): Promise<string> {
  const r = await nodeExec(node, 'ip', ['-j', 'link', 'show', 'dev', dev]);
  const mac = (JSON.parse(r.stdout || '[]') as { address?: string }[])[0]?.address;
  if (!mac) throw new Error(`no ${dev} on node ${node}: ${r.stderr}`);
  return mac;
}


t.test('storage=none between two remote nodes: the images cross the remotes\' migration network', async (t) => {
  const id = 'rem-none';
  const r = containerResource(id, '10.78.0.62', criu, { storage: 'none', state_dir: '/var/lib/ferry', migration_type: 'simple' });
  r.params.command = `${r.params.command} 5000 48`;
  await createAndWait(r, 'remote1');
  const before = readCounter(counterFile(id));
  const [mnBefore, bcBefore] = [await txBytes(3, 'mn0'), await txBytes(3, 'bc0')];
  await move(id, 'remote2');
  await waitRunningOn(id, 'remote2');
  await clear(id);
  const mn = (await txBytes(3, 'mn0')) - mnBefore;
  const bc = (await txBytes(3, 'bc0')) - bcBefore;
  const summary = JSON.parse((await nodeExec(4, 'cat', [`/var/lib/ferry/${id}/last-migration.json`])).stdout) as { bytesWritten: number };
  t.comment(`remote1 mn0 tx ${(mn / 1048576).toFixed(1)} MiB, bc0 tx ${(bc / 1048576).toFixed(1)} MiB; checkpoint memory ${(summary.bytesWritten / 1048576).toFixed(1)} MiB`);
  t.ok(summary.bytesWritten > 40 * 1048576, 'the checkpoint holds the ballast');
  t.ok(mn >= summary.bytesWritten, 'its memory went out through remote1\'s mn0');
  t.ok(bc < summary.bytesWritten / 4, 'not through the back-channel');
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'the same process on remote2');
  t.match(await pacemakerLog(3, 5000), /sending checkpoint \S+ to remote2 via remote2\.mn/, 'the log names the network');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
});
