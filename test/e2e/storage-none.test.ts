/**
 * storage=none under Pacemaker: each node keeps checkpoints in its own /var/lib/ferry and the images travel
 * through the target's `ferry serve` (the lab runs one per node). The bytes must cross the dedicated mn0 link
 * when it works and the back-channel when it does not (and the log says why); killing the target's helper or
 * cutting mn0 in the middle of a transfer must end with the container on exactly one node, counter continuous.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { execa } from 'execa';
import { failedActions, LAB_SH, labDown, labUp, nodeExec, pacemakerLog, waitFor, type NodeId } from '../lab/lab.js';
import { move, clear } from '../lab/cluster.js';
import { agent } from '../lab/agent-in-node.js';
import { workloadPids } from '../lab/faults.js';
import { containerResource, counterFile, createAndWait, criuForTests, removeResource, settleOnOne, readCounter, startClient, waitRunningOn } from '../lab/scenario.js';

const STATE = '/var/lib/ferry';
let criu = '';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  criu = await criuForTests();
  await labUp();
});
t.teardown(async () => { await labDown(); });

function resource(id: string, ip: string, ballastMiB: number, extra: Record<string, string> = {}) {
  const r = containerResource(id, ip, criu, { storage: 'none', state_dir: STATE, migration_type: 'simple', ...extra });
  r.params.command = `${r.params.command} 5000 ${ballastMiB}`;
  return r;
}

/** Bytes sent through an interface of a node (its /sys shows the host's interfaces, so ask ip). */
async function txBytes(node: NodeId, dev: string): Promise<number> {
  const r = await nodeExec(node, 'ip', ['-j', '-s', 'link', 'show', 'dev', dev]);
  const bytes = (JSON.parse(r.stdout) as { stats64: { tx: { bytes: number } } }[])[0]?.stats64.tx.bytes;
  if (bytes === undefined) throw new Error(`no counters for ${dev} on node${node}: ${r.stderr}`);
  return bytes;
}

async function nodeFile(node: NodeId, path: string): Promise<string> {
  return (await nodeExec(node, 'cat', [path])).stdout;
}

/** What is left of a resource's checkpoints on a node: image sets (also partial ones) and claims. */
async function leftovers(node: NodeId, id: string): Promise<string[]> {
  const r = await nodeExec(node, 'sh', ['-c', 'ls -A "$1/images" 2>/dev/null; ls -A "$1" 2>/dev/null | grep "^claim-" || true', 'sh', join(STATE, id)]);
  return r.stdout.split('\n').filter(Boolean);
}



/** Waits until node `n` is receiving images for `id`, then returns (the transfer is in flight). */
async function transferInFlight(n: NodeId, id: string): Promise<void> {
  await waitFor(async () => (await nodeExec(n, 'sh', ['-c', 'ls -A "$1" 2>/dev/null | grep -q "^\\.incoming-"', 'sh', join(STATE, id, 'images')])).exitCode === 0,
    { what: `a transfer of ${id} into node${n}`, timeoutMs: 60_000, intervalMs: 20 });
}

t.test('moved live with no shared storage: the images cross mn0, nothing is left behind', async (t) => {
  const id = 'sn-move';
  await createAndWait(resource(id, '10.78.0.70', 96), 'node1');
  const before = readCounter(counterFile(id));
  const client = startClient('10.78.0.70', 12, id);
  await new Promise((r) => setTimeout(r, 1000));
  const [mnBefore, bcBefore] = [await txBytes(1, 'mn0'), await txBytes(1, 'bc0')];
  await move(id, 'node2');
  await waitRunningOn(id, 'node2');
  await clear(id);
  const [mnAfter, bcAfter] = [await txBytes(1, 'mn0'), await txBytes(1, 'bc0')];
  const summary = JSON.parse(await nodeFile(2, join(STATE, id, 'last-migration.json'))) as { bytesWritten: number; downtimeMs: number };
  const mn = mnAfter - mnBefore;
  const bc = bcAfter - bcBefore;
  t.comment(`node1 mn0 tx ${(mn / 1048576).toFixed(1)} MiB, bc0 tx ${(bc / 1048576).toFixed(1)} MiB; checkpoint memory ${(summary.bytesWritten / 1048576).toFixed(1)} MiB, downtime ${summary.downtimeMs} ms`);
  t.ok(summary.bytesWritten > 90 * 1048576, 'the checkpoint holds the ballast');
  t.ok(mn >= summary.bytesWritten, 'at least the checkpoint\'s memory went out through mn0');
  t.ok(bc < summary.bytesWritten / 4, 'the back-channel did not carry it');
  const after = readCounter(counterFile(id));
  t.equal(after?.instance, before?.instance, 'the same process on node2');
  const c = await client.done;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.same(c.errors, [], 'the TCP session was never broken');
  t.same(await leftovers(1, id), [], 'node1 kept no images or claims');
  t.same(await leftovers(2, id), [], 'node2 kept no images or claims');
  t.match(await pacemakerLog(1, 400), new RegExp(`sending checkpoint \\S+ to node2 via node2\\.mn`), 'the log names the network');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
});

t.test('mn0 down: the images take the back-channel and the log says why', async (t) => {
  const id = 'sn-back';
  await createAndWait(resource(id, '10.78.0.71', 32), 'node1');
  await nodeExec(1, 'ip', ['link', 'set', 'mn0', 'down']);
  const bcBefore = await txBytes(1, 'bc0');
  await move(id, 'node2');
  await waitRunningOn(id, 'node2');
  await clear(id);
  const bc = await txBytes(1, 'bc0') - bcBefore;
  await nodeExec(1, 'ip', ['link', 'set', 'mn0', 'up']);
  t.ok(bc > 30 * 1048576, `the checkpoint crossed bc0 (${(bc / 1048576).toFixed(1)} MiB)`);
  const log = await pacemakerLog(1, 400);
  t.match(log, /migration traffic to node2 goes to node2 \(10\.78\.0\.2\): node2\.mn \(10\.79\.0\.2\) [^;]*(not routed|does not answer)/, 'why the back-channel');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
});

t.test('require_migration_network=true with mn0 down: refused before freezing, keeps running on node1', async (t) => {
  const id = 'sn-strict';
  await createAndWait(resource(id, '10.78.0.72', 0, { require_migration_network: 'true' }), 'node1');
  const before = readCounter(counterFile(id));
  // as Pacemaker would call it (under Pacemaker a failed migrate_to is followed by stop and start)
  const params = resource(id, '10.78.0.72', 0, { require_migration_network: 'true' }).params;
  await nodeExec(1, 'crm_resource', ['--resource', id, '--set-parameter', 'is-managed', '--meta', '--parameter-value', 'false']);
  await nodeExec(1, 'ip', ['link', 'set', 'mn0', 'down']);
  const r = await agent(1, 'migrate_to', params, { migrate_source: 'node1', migrate_target: 'node2', timeout: '60000' });
  await nodeExec(1, 'ip', ['link', 'set', 'mn0', 'up']);
  t.equal(r.code, 1, 'migrate_to fails with OCF_ERR_GENERIC');
  t.match(r.stderr, /ocf-exit-reason:.*require_migration_network=true/, 'the reason names the requirement');
  t.equal((await agent(1, 'monitor', params)).code, 0, 'still running on node1');
  t.equal((await agent(2, 'monitor', params)).code, 7, 'not running on node2');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'the same process, never frozen');
  t.same(await leftovers(1, id), [], 'no checkpoint was made');
  await nodeExec(1, 'crm_resource', ['--resource', id, '--set-parameter', 'is-managed', '--meta', '--parameter-value', 'true']);
  await removeResource(id);
});

t.test('lazy with no shared storage: the images through the helper, the memory from the page server, both over mn0', async (t) => {
  const id = 'sn-lazy';
  await createAndWait(resource(id, '10.78.0.75', 128, { migration_type: 'lazy', migration_type_strict: 'true' }), 'node1');
  const before = readCounter(counterFile(id));
  const mnBefore = await txBytes(1, 'mn0');
  await move(id, 'node2');
  await waitRunningOn(id, 'node2');
  await clear(id);
  const summaryFile = join(STATE, id, 'last-migration.json');
  const summary = await waitFor(async () => {
    const s = JSON.parse((await nodeFile(2, summaryFile)) || '{}') as { type?: string; allMemoryMs?: number; downtimeMs?: number };
    return s.allMemoryMs !== undefined ? s : undefined;
  }, { what: 'all memory on node2', timeoutMs: 60_000, intervalMs: 500 });
  const mn = await txBytes(1, 'mn0') - mnBefore;
  t.equal(summary.type, 'lazy');
  t.comment(`lazy, storage=none, 128 MiB: downtime ${summary.downtimeMs} ms, all memory in ${summary.allMemoryMs} ms, mn0 carried ${(mn / 1048576).toFixed(1)} MiB`);
  t.ok(mn > 128 * 1048576, 'the memory crossed mn0');
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'the same process on node2');
  t.equal((await workloadPids(counterFile(id))).length, 1, 'one copy');
  await waitFor(async () => ((await leftovers(1, id)).length === 0 ? true : undefined), { what: 'node1 without images', timeoutMs: 20_000 });
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
});

async function interruptedTransfer(t: Test, id: string, ip: string, interrupt: () => Promise<void>, repair: () => Promise<void>) {
  await createAndWait(resource(id, ip, 384), 'node1');
  const before = readCounter(counterFile(id));
  const client = startClient(ip, 40, id);
  await new Promise((r) => setTimeout(r, 1000));
  await move(id, 'node2');
  await transferInFlight(2, id);
  await interrupt();
  const where = await settleOnOne(id);
  await repair();
  t.equal(where.length, 1, `active on one node (${where.join(',')})`);
  t.equal((await workloadPids(counterFile(id))).length, 1, 'exactly one copy of the workload exists');
  const after = readCounter(counterFile(id));
  t.equal(after?.instance, before?.instance, 'the same process: resumed from its checkpoint, not restarted');
  t.ok((after?.value ?? 0) >= (before?.value ?? Infinity), `counter continued (${before?.value} -> ${after?.value})`);
  const c = await client.done;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.comment(`client: ${c.replies} replies, errors ${JSON.stringify(c.errors)}, longest pause ${c.max_gap_ms} ms`);
  const log = `${await pacemakerLog(1, 600)}\n${await pacemakerLog(2, 600)}`;
  t.match(log, /sending checkpoint \S+ to node2 failed|failed: .*the checkpoint is kept on node1/, 'the failed transfer is reported');
  for (const n of [1, 2] as const) {
    // the helper drops a partial transfer when its connection goes quiet, or when it starts after being killed
    const partial = async () => (await leftovers(n, id)).filter((e) => e.startsWith('.incoming-'));
    await waitFor(async () => ((await partial()).length === 0 ? true : undefined), { what: `node${n} without partial transfers`, timeoutMs: 30_000 })
      .catch(() => undefined);
    t.same(await partial(), [], `no partial transfer left on node${n}`);
  }
  await removeResource(id);
}

t.test('the target\'s helper killed mid-transfer: one node, same process', async (t) => {
  await interruptedTransfer(t, 'sn-killhelper', '10.78.0.73',
    async () => { await execa('sh', [LAB_SH, 'helper', '2', 'stop']); },
    async () => { await execa('sh', [LAB_SH, 'helper', '2', 'start']); });
});

t.test('mn0 cut mid-transfer: one node, same process', async (t) => {
  await interruptedTransfer(t, 'sn-cut', '10.78.0.74',
    async () => { await nodeExec(2, 'ip', ['link', 'set', 'mn0', 'down']); },
    async () => { await nodeExec(2, 'ip', ['link', 'set', 'mn0', 'up']); });
});
