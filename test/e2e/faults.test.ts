/**
 * Failures during a migration must leave the container running on exactly one node, with nothing lost where
 * a complete checkpoint exists. Under Pacemaker: the restore fails on the target; CRIU is killed mid-dump.
 * Agent-level (as Pacemaker would call it): the agent is SIGKILLed mid-migrate_to; state_dir is too small;
 * stale leftovers of an earlier run on the target.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { failedActions, LAB_DIR, labDown, labUp, nodeExec, REPO, SHARED_DIR, waitFor } from '../lab/lab.js';
import { move } from '../lab/cluster.js';
import { agent, AGENT, mustAgent, migrate } from '../lab/agent-in-node.js';
import { setFault, useFaultWrapper, workloadPids } from '../lab/faults.js';
import { containerResource, counterFile, createAndWait, criuForTests, removeResource, settleOnOne, readCounter, startClient, waitReplies } from '../lab/scenario.js';

let criu = '';
let wrapper = '';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  criu = await criuForTests();
  wrapper = useFaultWrapper(criu);
  await labUp();
});
t.teardown(async () => { await labDown(); });



t.test('restore fails on the target: the checkpoint is resumed, on one node, nothing lost', async (t) => {
  const id = 'flt-restore';
  await createAndWait(containerResource(id, '10.78.0.61', wrapper), 'node1');
  const before = readCounter(counterFile(id));
  const client = startClient('10.78.0.61', 300, id);
  await waitReplies(client, 20);
  await setFault(2, 'restore-fails', true);
  await move(id, 'node2');
  const where = await settleOnOne(id);
  await setFault(2, 'restore-fails', false);
  t.same(where, ['node1'], 'Pacemaker ends with the container on node1 (node2 cannot restore)');
  t.equal((await workloadPids(counterFile(id))).length, 1, 'exactly one copy of the workload exists');
  const after = readCounter(counterFile(id));
  t.equal(after?.instance, before?.instance, 'the same process, resumed from its checkpoint (not restarted)');
  t.ok((after?.value ?? 0) >= (before?.value ?? Infinity), `counter continued (${before?.value} -> ${after?.value})`);
  client.stop();
  const c = await client.done;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.comment(`client: ${c.replies} replies, errors ${JSON.stringify(c.errors)}, longest pause ${c.max_gap_ms} ms`);
  const failures = await failedActions(1);
  t.ok(failures.some((f) => f.includes('migrate_from') || f.includes('start')), 'the failed restore is reported to Pacemaker');
  await removeResource(id);
});

t.test('CRIU killed mid-dump: the container keeps running on exactly one node', async (t) => {
  const id = 'flt-dumpkill';
  await createAndWait(containerResource(id, '10.78.0.62', wrapper), 'node1');
  const before = readCounter(counterFile(id));
  await setFault(1, 'dump-killed', true);
  await move(id, 'node2');
  const where = await settleOnOne(id);
  await setFault(1, 'dump-killed', false);
  t.equal(where.length, 1, `active on one node (${where.join(',')})`);
  t.equal((await workloadPids(counterFile(id))).length, 1, 'exactly one copy of the workload exists');
  const after = readCounter(counterFile(id));
  t.ok(after !== undefined && after.value > 0, 'the workload is counting');
  t.comment(after?.instance === before?.instance
    ? 'same process as before the failed dump'
    : 'Pacemaker recovered the failed migrate_to by stop + start: the workload was restarted (no complete checkpoint existed)');
  const nft = await nodeExec(1, 'sh', ['-c', `for p in $(pgrep -f ${counterFile(id)}); do nsenter --net=/proc/$p/ns/net nft list tables; done`]);
  t.notMatch(nft.stdout, /CRIU-/, 'no CRIU network lock left in the container');
  await removeResource(id);
});

/** Starts, on node1 and without Pacemaker, a container holding `sizeMiB` of memory; returns once it counts. */
async function startHolding(id: string, sizeMiB: number, extra: Record<string, string> = {}) {
  const counter = join(SHARED_DIR, `${id}.count`);
  const params: Record<string, string> = {
    name: id, command: `exec /usr/bin/python3 ${join(REPO, 'bench', 'workload', 'hold.py')} ${sizeMiB} 0 ${counter}`,
    state_dir: SHARED_DIR, criu_binary: criu, stop_timeout: '2', migration_type: 'simple', authkey: join(LAB_DIR, 'authkey'), ...extra,
  };
  await mustAgent(1, 'start', params);
  await waitFor(() => readCounter(counter) !== undefined, { what: 'workload counting', timeoutMs: 20_000 });
  return { params, counter, before: readCounter(counter) };
}

t.test('agent SIGKILLed mid-migrate_to, then Pacemaker-style recovery: one node, state kept or restarted, never two', async (t) => {
  const id = 'flt-sigkill';
  const { params, counter } = await startHolding(id, 256);
  const meta = ['migrate_source=node1', 'migrate_target=node2', 'on_node=node1', 'timeout=60000'];
  const env = [...Object.entries(params).map(([k, v]) => `OCF_RESKEY_${k}=${v}`), ...meta.map((m) => `OCF_RESKEY_CRM_meta_${m}`)];
  // SIGKILL the agent and its CRIU 150 ms into the dump of 256 MiB (which takes several hundred ms)
  await nodeExec(1, join(REPO, 'test', 'lab', 'kill-group.sh'),
    [join(SHARED_DIR, id, 'migration.json'), '"dumping"', '0.15', 'env', ...env, AGENT, 'migrate_to'], { timeoutMs: 40_000 });
  const record = await nodeExec(1, 'cat', [join(SHARED_DIR, id, 'migration.json')]);
  t.comment(`record after the kill: ${record.stdout.replace(/\s+/g, ' ').slice(0, 160)}`);
  // what Pacemaker does after a failed migrate_to: stop on both nodes, then start on one
  t.equal((await agent(1, 'stop', params)).code, 0, 'stop on the source succeeds');
  t.equal((await agent(2, 'stop', params)).code, 0, 'stop on the target succeeds');
  t.equal((await workloadPids(counter)).length, 0, 'nothing runs anywhere after both stops');
  t.equal((await agent(2, 'start', params)).code, 0, 'start on node2 succeeds');
  t.equal((await workloadPids(counter)).length, 1, 'exactly one copy runs');
  t.equal((await agent(2, 'monitor', params, { interval: '10000' })).code, 0, 'monitor on node2: running');
  t.equal((await agent(1, 'monitor', params)).code, 7, 'probe on node1: not running');
  await mustAgent(2, 'stop', params);
});

t.test('state_dir too small: refused before freezing, the container keeps running', async (t) => {
  const id = 'flt-full';
  const img = join(process.env.FERRY_LAB_DIR ?? '/tmp/ferry-lab', 'small.img');
  const mnt = '/mnt/ferry-lab-small';
  mkdirSync(mnt, { recursive: true });
  const loop = (await nodeExec(1, 'sh', ['-c', `truncate -s 24M ${img} && mkfs.ext4 -q -F ${img} && losetup -f --show ${img}`])).stdout.trim();
  t.match(loop, /^\/dev\/loop\d+$/, 'a loop device with a small ext4');
  for (const n of [1, 2] as const) await nodeExec(n, 'mount', [loop, mnt]);
  const { params, counter, before } = await startHolding(id, 64, { state_dir: mnt });
  const out = await agent(1, 'migrate_to', params, { migrate_source: 'node1', migrate_target: 'node2' });
  t.equal(out.code, 1, 'migrate_to fails');
  t.match(out.stderr, /ocf-exit-reason:.*MiB free.*keeps running on node1/, 'the reason names the space problem');
  t.equal((await agent(1, 'monitor', params, { interval: '10000' })).code, 0, 'still running on node1');
  t.equal(readCounter(counter)?.instance ?? before?.instance, before?.instance, 'same process');
  await mustAgent(1, 'stop', params);
  for (const n of [1, 2] as const) await nodeExec(n, 'umount', [mnt]);
  await nodeExec(1, 'losetup', ['-d', loop]);
});

t.test('stale leftovers of an earlier run on the target do not stop a migration', async (t) => {
  const id = 'flt-stale';
  const { params, counter, before } = await startHolding(id, 16, { bridge: 'br0', ip: '10.78.0.63/24' });
  // an old image set, an old claim, and on node2 a stale pidfile naming a live unrelated process plus a restore intent
  mkdirSync(join(SHARED_DIR, id, 'images', 'old-run'), { recursive: true });
  writeFileSync(join(SHARED_DIR, id, 'images', 'old-run', 'inventory.img'), 'stale');
  mkdirSync(join(SHARED_DIR, id, 'claim-old-run'), { recursive: true });
  await nodeExec(2, 'sh', ['-c', `mkdir -p /run/ferry/restoring && echo 1 > /run/ferry/${id}.restored.pid && printf '{"name":"${id}","pidFile":"/run/ferry/${id}.restored.pid","migrationId":"old-run","since":"2020-01-01T00:00:00Z"}' > /run/ferry/restoring/${id}.json`]);
  t.equal((await agent(2, 'monitor', params)).code, 7, 'the probe on node2 does not mistake the stale pidfile for the container');
  await migrate(1, 2, params);
  const after = readCounter(counter);
  t.equal(after?.instance, before?.instance, 'same process after the migration');
  const images = await nodeExec(2, 'ls', ['-A', join(SHARED_DIR, id, 'images')]);
  t.equal(images.stdout.trim(), '', 'old image sets removed');
  const claims = await nodeExec(2, 'sh', ['-c', `ls -d ${join(SHARED_DIR, id)}/claim-* 2>/dev/null || true`]);
  t.equal(claims.stdout.trim(), '', 'no claims left');
  t.equal((await workloadPids(counter)).length, 1, 'exactly one copy');
  await mustAgent(2, 'stop', params);
  t.equal((await workloadPids(counter)).length, 0, 'stopped');
});

t.test('a process attached from outside (nsenter) is refused before freezing', async (t) => {
  const id = 'flt-attached';
  const { params, counter, before } = await startHolding(id, 8);
  const init = (await nodeExec(1, 'cat', [`/run/ferry/containers/${id}.json`])).stdout;
  const pid = String(JSON.parse(init).pid);
  // long enough to outlast migrate_to on a slow machine; killed below once the test is done with it
  const shell = nodeExec(1, 'nsenter', ['-t', pid, '-p', '-n', '-u', '-i', 'sleep', '300'], { timeoutMs: 320_000 });
  // the intruder is there once a `sleep 300` shares the container's PID namespace (rather than a fixed 500 ms)
  const findIntruder = `for p in $(pgrep -x sleep); do [ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$1/ns/pid)" ] && grep -q 300 /proc/$p/cmdline && echo $p; done; true`;
  const intruder = await waitFor(async () => (await nodeExec(1, 'sh', ['-c', findIntruder, 'sh', pid])).stdout.trim().split('\n')[0] || undefined,
    { what: 'the attached sleep inside the container', timeoutMs: 30_000, intervalMs: 100 });
  const out = await agent(1, 'migrate_to', params, { migrate_source: 'node1', migrate_target: 'node2' });
  t.equal(out.code, 1, 'migrate_to fails');
  t.match(out.stderr, /ocf-exit-reason:not migrating flt-attached to node2 \(attached processes\): process\(es\) attached from outside .*sleep 300/, 'the reason names the intruder');
  t.equal((await agent(1, 'monitor', params, { interval: '10000' })).code, 0, 'still running on node1');
  t.equal(readCounter(counter)?.instance, before?.instance, 'same process, never frozen');
  await nodeExec(1, 'kill', ['-KILL', intruder]);
  await shell;
  await mustAgent(1, 'stop', params);
});
