/**
 * storage=none under Pacemaker: each node keeps checkpoints in its own /var/lib/ferry and the images travel
 * through the target's `ferry serve` (the lab runs one per node). The bytes must cross the dedicated mn0 link
 * when it works and the back-channel when it does not (and the log says why); killing the target's helper or
 * cutting mn0 in the middle of a transfer must end with the container on exactly one node, counter continuous.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { execa } from 'execa';
import { failedActions, LAB_SH, nodeExec, pacemakerLog, REPO, waitFor, type NodeId } from '../lab/lab.js';
import { move, clear } from '../lab/cluster.js';
import { AGENT, agent } from '../lab/agent-in-node.js';
import { setFault, throttle, unthrottle, useFaultWrapper, workloadPids } from '../lab/faults.js';
import {
  clientReplies, containerResource, counterFile, counterSince, createAndWait, readCounter, removeResource,
  settleOnOne, startClient, txBytes, useLab, waitReplies, waitRunningOn,
} from '../lab/scenario.js';

const STATE = '/var/lib/ferry';
let criu = '';
useLab(t, (c) => { criu = c; });

function resource(id: string, ip: string, ballastMiB: number, extra: Record<string, string> = {}) {
  const r = containerResource(id, ip, criu, { storage: 'none', state_dir: STATE, migration_type: 'simple', ...extra });
  r.params.command = `${r.params.command} 5000 ${ballastMiB}`;
  return r;
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
  const client = startClient('10.78.0.70', 300, id);
  await waitReplies(client, 20);
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
  await waitReplies(client, 20, clientReplies(client));
  client.stop();
  const c = await client.done;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.same(c.errors, [], 'the TCP session was never broken');
  t.same(await leftovers(1, id), [], 'node1 kept no images or claims');
  t.same(await leftovers(2, id), [], 'node2 kept no images or claims');
  t.match(await pacemakerLog(1, 5000), new RegExp(`sending checkpoint \\S+ to node2 via node2\\.mn`), 'the log names the network');
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
  const log = await pacemakerLog(1, 5000);
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
  // written again since (by this process or, had it been restarted, by a new one): then compare
  t.equal((await counterSince(id, readCounter(counterFile(id))))?.instance, before?.instance, 'the same process, never frozen');
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
  const client = startClient(ip, 600, id);
  await waitReplies(client, 20);
  // the images leave through node1's mn0: slowed, the transfer is still under way when it is interrupted, however
  // fast this machine copies 384 MiB
  const throttled = await throttle(1, 'mn0');
  t.comment(throttled ? 'node1 mn0 limited to 1 Gbit/s for this test' : 'no tbf qdisc here: the transfer runs at this machine\'s own speed');
  await move(id, 'node2');
  await transferInFlight(2, id);
  await interrupt();
  await unthrottle(1, 'mn0');
  const where = await settleOnOne(id);
  await repair();
  t.equal(where.length, 1, `active on one node (${where.join(',')})`);
  t.equal((await workloadPids(counterFile(id))).length, 1, 'exactly one copy of the workload exists');
  const after = readCounter(counterFile(id));
  t.equal(after?.instance, before?.instance, 'the same process: resumed from its checkpoint, not restarted');
  t.ok((after?.value ?? 0) >= (before?.value ?? Infinity), `counter continued (${before?.value} -> ${after?.value})`);
  client.stop();
  const c = await client.done;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.comment(`client: ${c.replies} replies, errors ${JSON.stringify(c.errors)}, longest pause ${c.max_gap_ms} ms`);
  const log = `${await pacemakerLog(1, 5000)}\n${await pacemakerLog(2, 5000)}`;
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

/**
 * #14 finding 5: the target claims the source's copy before it restores; if it then crashes (here: its agent and
 * CRIU SIGKILLed while the restore waits to begin, as fencing would end them), the claim stays on the source's
 * copy. Before, the source's start read that claim as "restored there", set its complete checkpoint aside and
 * started afresh (state lost); with node2 back, its copy unclaimed, the two nodes refused each other. Now the
 * source asks the claimant: given up (or unreachable: crashed, fenced) means the restore never finished there.
 */
async function targetCrashesMidRestore(t: Test, id: string, ip: string): Promise<{ params: Record<string, string>; before: ReturnType<typeof readCounter> }> {
  const params = { ...resource(id, ip, 64).params, criu_binary: useFaultWrapper(criu) };
  await agentOk(t, 1, 'start', params);
  await waitFor(() => readCounter(counterFile(id)) !== undefined, { what: `${id} counting`, timeoutMs: 20_000 });
  const before = readCounter(counterFile(id));
  const meta = { migrate_source: 'node1', migrate_target: 'node2' };
  await agentOk(t, 1, 'migrate_to', params, meta);
  await setFault(2, 'restore-slow', true);
  const env = [...Object.entries(params).map(([k, v]) => `OCF_RESKEY_${k}=${v}`),
    ...Object.entries({ ...meta, on_node: 'node2', timeout: '60000' }).map(([k, v]) => `OCF_RESKEY_CRM_meta_${k}=${v}`)];
  // the kill comes 0.5 s into the restore's 30 s pause: node2 has claimed node1's copy and written "restoring"
  await nodeExec(2, join(REPO, 'test', 'lab', 'kill-group.sh'),
    [join(STATE, id, 'migration.json'), '"restoring"', '0.5', 'env', ...env, AGENT, 'migrate_from'], { timeoutMs: 40_000 });
  await setFault(2, 'restore-slow', false);
  t.match(await nodeFile(1, join(STATE, id, `claim-${JSON.parse(await nodeFile(2, join(STATE, id, 'migration.json'))).id}`, 'owner.json')),
    /"node": ?"node2"/, 'node2 holds the claim on node1\'s copy, as a crash mid-migrate_from leaves it');
  t.equal((await workloadPids(counterFile(id))).length, 0, 'nothing runs anywhere');
  return { params, before };
}

async function agentOk(t: Test, node: NodeId, action: string, params: Record<string, string>, meta: Record<string, string> = {}) {
  const r = await agent(node, action, params, meta);
  t.equal(r.code, 0, `${action} on node${node}: ${r.code === 0 ? 'ok' : r.stderr.trim().split('\n').pop()}`);
  return r;
}

t.test('the target crashed mid-migrate_from, back up: the source\'s start resumes its complete checkpoint, node2 gave its copy up', async (t) => {
  const id = 'sn-strand1';
  const { params, before } = await targetCrashesMidRestore(t, id, '10.78.0.75');
  // node2 "rebooted": its /run is empty of the killed restore (Pacemaker fenced it, then starts the resource on node1)
  await nodeExec(2, 'sh', ['-c', `rm -f /run/ferry/restoring/${id}.json /run/ferry/${id}.restored.pid`]);
  const start = await agentOk(t, 1, 'start', params);
  const after = await counterSince(id, before);
  t.equal(after?.instance, before?.instance, `the same process, resumed (${before?.instance} -> ${after?.instance})`);
  t.ok((after?.value ?? 0) >= (before?.value ?? Infinity), `counter continued (${before?.value} -> ${after?.value})`);
  t.match(start.stderr, /claimed by node2, whose restore never finished: node2 gave it up, resuming it here/, 'node1 says why it resumes');
  t.equal((await workloadPids(counterFile(id))).length, 1, 'one copy');
  t.equal((await agent(2, 'monitor', params)).code, 7, 'probe on node2: not running');
  t.match(await nodeFile(2, join(STATE, id, 'migration.json')), /"phase": ?"restored"/, 'node2\'s copy is retired: never resumed there');
  await agentOk(t, 1, 'stop', params);
});

t.test('the target crashed mid-migrate_from and stays down (fenced): the source\'s start resumes its complete checkpoint', async (t) => {
  const id = 'sn-strand2';
  const { params, before } = await targetCrashesMidRestore(t, id, '10.78.0.76');
  await execa('sh', [LAB_SH, 'helper', '2', 'stop']);
  try {
    const start = await agentOk(t, 1, 'start', params);
    const after = await counterSince(id, before);
    t.equal(after?.instance, before?.instance, `the same process, resumed (${before?.instance} -> ${after?.instance})`);
    t.match(start.stderr, /claimed by node2, which cannot be asked now .*: resuming it here/, 'node1 says why it resumes');
    t.equal((await workloadPids(counterFile(id))).length, 1, 'one copy');
  } finally {
    await execa('sh', [LAB_SH, 'helper', '2', 'start']);
  }
  // node2 back: its copy can never be restored there, since that needs node1's, which node1 restored
  await agentOk(t, 1, 'stop', params);
  const onNode2 = await agent(2, 'start', params);
  t.equal(onNode2.code, 0, `a later start on node2 succeeds (${onNode2.stderr.trim().split('\n').pop()})`);
  const fresh = readCounter(counterFile(id));
  t.match(onNode2.stderr, /not resuming checkpoint \S+: node1 refuses to give up checkpoint .*restored.*setting it aside/, 'node2 sets its obsolete copy aside');
  t.equal((await workloadPids(counterFile(id))).length, 1, 'one copy');
  t.comment(`node2 started ${fresh?.instance === before?.instance ? 'the same process?!' : 'afresh'}`);
  await agentOk(t, 2, 'stop', params);
});
