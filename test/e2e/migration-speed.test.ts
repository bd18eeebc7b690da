/**
 * migration_speed under Pacemaker: with the migration network down, a 1 GiB container (storage=none) moves over
 * the back-channel, the network corosync uses, at the limit. Measured on the link: the bytes crossed bc0 no faster
 * than the limit allows; corosync stayed quorate all along, no node was lost, and the log warned of the risk.
 */
import t from 'tap';
import { failedActions, labDown, labUp, nodeExec, onlineNodes, pacemakerLog, type NodeId } from '../lab/lab.js';
import { clear, move } from '../lab/cluster.js';
import { availableMiB } from '../lab/faults.js';
import { containerResource, counterFile, createAndWait, criuForTests, readCounter, removeResource, waitRunningOn } from '../lab/scenario.js';

const ID = 'speed1';
const BALLAST_MIB = 1024;
const SPEED_MIBS = 64;
let criu = '';

async function txBytes(node: NodeId, dev: string): Promise<number> {
  const r = await nodeExec(node, 'ip', ['-j', '-s', 'link', 'show', 'dev', dev]);
  return (JSON.parse(r.stdout) as { stats64: { tx: { bytes: number } } }[])[0]?.stats64.tx.bytes ?? Number.NaN;
}

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  const needMiB = 2 * BALLAST_MIB + 512;
  if (availableMiB() < needMiB) throw new Error(`${availableMiB()} MiB of memory available, this test needs about ${needMiB} MiB`);
  criu = await criuForTests();
  await labUp();
});
t.teardown(async () => { await labDown(); });

t.test(`1 GiB over the back-channel at migration_speed=${SPEED_MIBS}: the limit holds on the link, corosync stays quorate`, async (t) => {
  const r = containerResource(ID, '10.78.0.85', criu, { storage: 'none', state_dir: '/var/lib/ferry', migration_type: 'simple', migration_speed: String(SPEED_MIBS) });
  r.params.command = `${r.params.command} 5000 ${BALLAST_MIB}`;
  r.migrateTimeoutS = 300;
  await createAndWait(r, 'node1');
  const before = readCounter(counterFile(ID));
  await nodeExec(1, 'ip', ['link', 'set', 'mn0', 'down']);
  t.teardown(() => nodeExec(1, 'ip', ['link', 'set', 'mn0', 'up']).then(() => undefined));
  const bcBefore = await txBytes(1, 'bc0');
  // corosync's view, twice a second, on both nodes, while the bytes move
  const samples: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const n of [1, 2] as NodeId[]) {
        const q = await nodeExec(n, 'corosync-quorumtool', ['-s']);
        samples.push(`node${n}:${/Quorate:\s+Yes/.test(q.stdout) ? 'quorate' : 'NOT quorate'}:${/Total votes:\s+2/.test(q.stdout) ? '2 votes' : 'votes lost'}`);
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  })();
  await move(ID, 'node2');
  await waitRunningOn(ID, 'node2', 300_000);
  watching = false;
  await watcher;
  await clear(ID);
  const bc = await txBytes(1, 'bc0') - bcBefore;
  const log = await pacemakerLog(1, 5000);
  const sent = /sent ([\d.]+) MiB to node2 in (\d+) ms via node2\b/.exec(log);
  t.ok(sent, 'the log has the transfer\'s size and time');
  const mib = Number(sent?.[1]);
  const ms = Number(sent?.[2]);
  t.comment(`sent ${mib} MiB in ${ms} ms: ${(mib / (ms / 1000)).toFixed(1)} MiB/s at a limit of ${SPEED_MIBS}; bc0 carried ${(bc / 1048576).toFixed(0)} MiB; ${samples.length} quorum samples`);
  t.ok(mib > BALLAST_MIB * 0.9, 'the checkpoint holds the ballast');
  t.ok(bc >= mib * 1048576, 'the bytes crossed bc0, the back-channel');
  // the limit allows a quarter second's burst on top of the rate
  t.ok(mib / SPEED_MIBS - 0.25 <= ms / 1000, `no faster than the limit (${(mib / (ms / 1000)).toFixed(1)} MiB/s)`);
  t.match(log, /goes over the back-channel \(node2\), which corosync uses too: paced to migration_speed=64 MiB\/s/, 'the log says the path and the limit');
  t.ok(samples.length >= 10, 'corosync was watched through the move');
  t.same(samples.filter((s) => !/^node\d:quorate:2 votes$/.test(s)), [], 'quorate with both votes in every sample');
  t.same((await onlineNodes(1)).sort(), ['node1', 'node2'], 'no node was lost');
  t.same(await failedActions(1), [], 'no failed actions');
  const after = readCounter(counterFile(ID));
  t.equal(after?.instance, before?.instance, 'the same process on node2');
  await removeResource(ID);
});
