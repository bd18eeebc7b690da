/**
 * Lazy (post-copy) migration under Pacemaker, for real on this kernel (it needs userfaultfd, checked first;
 * fs.pipe-max-size is raised by prepare-host.sh; memory for two copies of the largest workload): a 256 MiB workload that keeps dirtying memory resumes on the target before its
 * memory has moved, its TCP session and counter survive, and the source lets go only after the last page. With
 * the pipe limit low the check catches it before anything is frozen: strict fails, non-strict falls back.
 * A page server killed while pages are missing is reported as a failure on the target, never a silent half-process.
 * A lazy dump that fails gives the container back to the source, alive.
 */
import t from 'tap';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { failedActions, labDown, labUp, nodeExec, pacemakerLog, SHARED_DIR, waitFor } from '../lab/lab.js';
import { clear, move } from '../lab/cluster.js';
import { agent, mustAgent } from '../lab/agent-in-node.js';
import { availableMiB, setFault, throttle, unthrottle, useFaultWrapper, workloadPids } from '../lab/faults.js';
import { clientReplies, containerResource, counterFile, counterSince, createAndWait, criuForTests, readCounter, removeResource, settleOnOne, startClient, waitReplies, waitRunningOn } from '../lab/scenario.js';
import { criuFeatures } from '../lab/criu-for-tests.js';

const PIPE_MAX = '/proc/sys/fs/pipe-max-size';
let criu = '';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  if (Number(readFileSync(PIPE_MAX, 'utf8')) < 4194304) throw new Error(`${PIPE_MAX} is below 4 MiB: run test/lab/prepare-host.sh first`);
  criu = await criuForTests();
  // preconditions of this machine, said plainly rather than failing later as a mysterious fallback or OOM
  if (!(await criuFeatures(criu)).uffdNoncoop) throw new Error(`${criu} check --feature uffd-noncoop fails: this kernel has no non-cooperative userfaultfd, lazy migration cannot be tested here`);
  // the largest workload (384 MiB) exists twice during a migration (the frozen source and the target), plus the nodes
  const needMiB = 2 * 384 + 512;
  if (availableMiB() < needMiB) throw new Error(`${availableMiB()} MiB of memory available, these tests need about ${needMiB} MiB`);
  await labUp();
});
t.teardown(async () => {
  writeFileSync(PIPE_MAX, '4194304');
  await labDown();
});

function resource(id: string, ip: string, ballastMiB: number, dirtyMiBs: number, extra: Record<string, string> = {}) {
  const r = containerResource(id, ip, criu, { migration_type: 'lazy', ...extra });
  r.params.command = `${r.params.command} 5000 ${ballastMiB} ${dirtyMiBs}`;
  return r;
}

interface Summary { type: string; downtimeMs: number; allMemoryMs?: number; restoreMs: number; pagesRestored: number }
const summaryOf = (id: string): Summary | undefined => {
  try {
    return JSON.parse(readFileSync(join(SHARED_DIR, id, 'last-migration.json'), 'utf8')) as Summary;
  } catch {
    return undefined;
  }
};

/** CRIU processes of the lab nodes (page servers, lazy-pages daemons) still alive. */
async function criuProcesses(): Promise<string[]> {
  const r = await nodeExec(1, 'pgrep', ['-af', 'criu (dump|lazy-pages)']);
  return r.stdout.split('\n').filter((l) => l.includes('--lazy-pages') || l.includes('lazy-pages --page-server'));
}

t.test('256 MiB dirtying 32 MiB/s moves lazily: resumes first, memory follows, session and counter kept', async (t) => {
  const id = 'lz-move';
  await createAndWait(resource(id, '10.78.0.75', 256, 32), 'node1');
  const before = readCounter(counterFile(id));
  const client = startClient('10.78.0.75', 300, id);
  await waitReplies(client, 20);
  await move(id, 'node2');
  await waitRunningOn(id, 'node2');
  await clear(id);
  // the restoring node's monitor notices when the last page is in and completes the figures
  const summary = await waitFor(() => (summaryOf(id)?.allMemoryMs !== undefined ? summaryOf(id) : undefined),
    { what: 'all memory fetched', timeoutMs: 60_000, intervalMs: 250 });
  t.equal(summary.type, 'lazy', 'migrated lazily');
  t.comment(`lazy 256 MiB: downtime ${summary.downtimeMs} ms (restore ${summary.restoreMs} ms), all memory after ${summary.allMemoryMs} ms`);
  t.ok(summary.allMemoryMs! > summary.downtimeMs, 'the container ran before its memory had all arrived');
  const after = readCounter(counterFile(id));
  t.equal(after?.instance, before?.instance, 'the same process on node2');
  await waitReplies(client, 20, clientReplies(client));
  client.stop();
  const c = await client.done;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.same(c.errors, [], 'the TCP session was never broken');
  t.comment(`client: ${c.replies} replies, longest pause ${c.max_gap_ms} ms`);
  // the source lets its frozen tree go once the last page is served: a moment after the target has counted it
  const copies = await waitFor(async () => {
    const n = (await workloadPids(counterFile(id))).length;
    return n === 1 ? n : undefined;
  }, { what: 'one copy of the workload', timeoutMs: 20_000 }).catch(async () => (await workloadPids(counterFile(id))).length);
  t.equal(copies, 1, 'one copy: the source\'s frozen tree is gone');
  await waitFor(async () => ((await criuProcesses()).length === 0 ? true : undefined), { what: 'no page server or lazy-pages left', timeoutMs: 20_000 });
  const images = await nodeExec(1, 'sh', ['-c', 'ls -A "$1" 2>/dev/null', 'sh', join(SHARED_DIR, id, 'images')]);
  t.equal(images.stdout.trim(), '', 'the images are removed once every page has arrived');
  t.same(await failedActions(1), [], 'no failed actions');
  await removeResource(id);
});

t.test('pipe limit too low: caught before freezing; strict fails, otherwise simple with the reason logged', async (t) => {
  const id = 'lz-pipe';
  await createAndWait(resource(id, '10.78.0.76', 0, 0), 'node1');
  const before = readCounter(counterFile(id));
  const params = resource(id, '10.78.0.76', 0, 0, { migration_type_strict: 'true' }).params;
  await nodeExec(1, 'crm_resource', ['--resource', id, '--set-parameter', 'is-managed', '--meta', '--parameter-value', 'false']);
  writeFileSync(PIPE_MAX, '1048576');
  const strict = await agent(1, 'migrate_to', params, { migrate_source: 'node1', migrate_target: 'node2', timeout: '60000' });
  t.equal(strict.code, 1, 'strict: migrate_to fails');
  t.match(strict.stderr, /ocf-exit-reason:.*migration_type=lazy is not possible here.*fs\.pipe-max-size is 1048576.*sysctl -w fs\.pipe-max-size=4194304/, 'the reason names the limit and the fix');
  t.equal((await agent(1, 'monitor', params)).code, 0, 'still running on node1');
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'the same process, never frozen');
  await nodeExec(1, 'crm_resource', ['--resource', id, '--set-parameter', 'is-managed', '--meta', '--parameter-value', 'true']);
  await move(id, 'node2');
  await waitRunningOn(id, 'node2');
  await clear(id);
  writeFileSync(PIPE_MAX, '4194304');
  t.equal(summaryOf(id)?.type, 'simple', 'non-strict: migrated with simple');
  t.match(await pacemakerLog(1, 5000), /lazy needs .*fs\.pipe-max-size is 1048576.*falling back to simple/, 'the fallback and its reason are logged');
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'still the same process after the simple migration');
  await removeResource(id);
});

t.test('the page server killed while pages are missing: the target reports failure, one copy remains', async (t) => {
  const id = 'lz-kill';
  await createAndWait(resource(id, '10.78.0.77', 384, 0, { }), 'node1');
  // the pages go out through node1's mn0: slowed, they are still coming when the page server dies, on a fast machine too
  const throttled = await throttle(1, 'mn0');
  t.comment(throttled ? 'node1 mn0 limited to 1 Gbit/s for this test' : 'no tbf qdisc here: the pages move at this machine\'s own speed');
  t.teardown(() => unthrottle(1, 'mn0'));
  await move(id, 'node2');
  // as soon as the target runs it, kill the source's page server: most of 384 MiB is still on node1
  const restoredLazily = `test -e /run/ferry/containers/${id}.json && test -e /run/ferry/lazy/${id}.lazy-pages.json`;
  await waitFor(async () => ((await nodeExec(2, 'sh', ['-c', restoredLazily])).exitCode === 0 ? true : undefined),
    { what: 'the lazy restore done on node2', timeoutMs: 60_000, intervalMs: 20 });
  // CRIU itself, as if it crashed (not the flock around it, nor its supervisor)
  const killed = await nodeExec(1, 'sh', ['-c', 'for p in $(pgrep -f "criu dump .*$1/images"); do case $(cat /proc/$p/comm) in node|flock) ;; *) kill -KILL $p && echo $p ;; esac; done', 'sh', id]);
  t.ok(killed.stdout.trim() !== '', `the source's page server was still serving when killed (pid ${killed.stdout.trim() || 'none: every page had already moved, the test could not interrupt it'})`);
  await unthrottle(1, 'mn0');
  const where = await settleOnOne(id);
  await clear(id);
  t.equal(where.length, 1, `active on one node (${where.join(',')})`);
  t.equal((await workloadPids(counterFile(id))).length, 1, 'exactly one copy of the workload exists');
  const log = `${await pacemakerLog(1, 5000)}\n${await pacemakerLog(2, 5000)}`;
  t.match(log, /fetching the memory of lz-kill from the source failed .*its memory is incomplete/, 'the broken restore is reported, not hidden');
  t.ok((await failedActions(1)).some((f) => f.includes('monitor')), 'Pacemaker saw a failed monitor');
  await removeResource(id);
});

t.test('the migration link cut while pages are missing: the target\'s monitor reports the stall within seconds, one copy remains', async (t) => {
  const id = 'lz-cut';
  await createAndWait(resource(id, '10.78.0.78', 384, 8, { }), 'node1');
  const throttled = await throttle(1, 'mn0');
  t.comment(throttled ? 'node1 mn0 limited to 1 Gbit/s for this test' : 'no tbf qdisc here: the pages move at this machine\'s own speed');
  const cut = ['sh', '-c', 'nft add table inet ferrycut && nft add chain inet ferrycut in "{ type filter hook input priority -10; }" '
    + '&& nft add chain inet ferrycut out "{ type filter hook output priority -10; }" && nft add rule inet ferrycut in iifname mn0 drop && nft add rule inet ferrycut out oifname mn0 drop'];
  const mend = () => nodeExec(1, 'nft', ['delete', 'table', 'inet', 'ferrycut']).then(() => undefined);
  t.teardown(async () => { await mend(); await unthrottle(1, 'mn0'); });
  await move(id, 'node2');
  const restoredLazily = `test -e /run/ferry/containers/${id}.json && test -e /run/ferry/lazy/${id}.lazy-pages.json`;
  await waitFor(async () => ((await nodeExec(2, 'sh', ['-c', restoredLazily])).exitCode === 0 ? true : undefined),
    { what: 'the lazy restore done on node2', timeoutMs: 60_000, intervalMs: 20 });
  // the frozen tree the source's page server holds (pgrep -f is no use now: it would read the command line of the
  // restored workload on node2, and fault on a page that is not there)
  const tree = JSON.parse((await nodeExec(1, 'cat', [`/run/ferry/lazy/${id}.tree.json`])).stdout) as { pid: number };
  // the link goes, not a process: CRIU's page server and lazy-pages both stay, blocked, with TCP retransmitting
  const cutAt = Date.now();
  t.equal((await nodeExec(1, cut[0]!, cut.slice(1))).exitCode, 0, 'node1\'s mn0 drops everything, both ways');
  // by its status file's pid (the last "pid" in it; the supervisor's comes first), not pgrep -f: reading the restored workload's command line would fault on a missing page
  const stillFetching = (await nodeExec(2, 'sh', ['-c', `p=$(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p' /run/ferry/lazy/${id}.lazy-pages.json | tail -n 1) && [ -n "$p" ] && [ -d /proc/$p ] && ! grep -q '"endedAt"' /run/ferry/lazy/${id}.lazy-pages.json`])).exitCode === 0;
  t.ok(stillFetching, 'lazy-pages was still fetching when the link went (the test interrupted a transfer)');
  await waitFor(async () => ((await pacemakerLog(2, 3000)).includes(`fetching the memory of ${id} from the source has stalled`) ? true : undefined),
    { what: 'node2\'s monitor to report the stalled fetch', timeoutMs: 90_000, intervalMs: 500 });
  const reportedS = (Date.now() - cutAt) / 1000;
  t.ok(reportedS < 60, `reported ${reportedS.toFixed(0)} s after the cut (stall threshold 10 s, monitor every 5 s), not after TCP's 15 minutes`);
  // the source gave up too: its page server ended and the frozen tree it held died with it, the link still cut
  await waitFor(async () => ((await nodeExec(1, 'test', ['-d', `/proc/${tree.pid}`])).exitCode !== 0 ? true : undefined),
    { what: 'the frozen tree on node1 to be gone', timeoutMs: 30_000, intervalMs: 500 });
  t.pass(`node1's frozen tree was gone ${((Date.now() - cutAt) / 1000).toFixed(0)} s after the cut, before the link came back`);
  await mend();
  const where = await settleOnOne(id);
  await clear(id);
  t.equal(where.length, 1, `active on one node (${where.join(',')})`);
  t.equal((await workloadPids(counterFile(id))).length, 1, 'exactly one copy of the workload exists');
  t.ok((await failedActions(1)).some((f) => f.includes('monitor')), 'Pacemaker saw a failed monitor');
  await removeResource(id);
});

t.test('a page server that serves does not hold the node\'s CRIU lock: other dumps and restores on node1 need not wait', async (t) => {
  const id = 'lz-lock';
  await createAndWait(resource(id, '10.78.0.79', 384, 0, {}), 'node1');
  // slow enough that the transfer is still going when the lock is looked at, on a fast machine too
  const throttled = await throttle(1, 'mn0', '200mbit');
  t.comment(throttled ? 'node1 mn0 limited to 200 Mbit/s for this test' : 'no tbf qdisc here: the pages move at this machine\'s own speed');
  t.teardown(() => unthrottle(1, 'mn0'));
  const serving = `test -e /run/ferry/lazy/${id}.page-server.json && ! grep -q '"endedAt"' /run/ferry/lazy/${id}.page-server.json`;
  await move(id, 'node2');
  await waitFor(async () => ((await nodeExec(2, 'test', ['-e', `/run/ferry/lazy/${id}.lazy-pages.json`])).exitCode === 0 ? true : undefined),
    { what: 'the lazy restore done on node2', timeoutMs: 60_000, intervalMs: 20 });
  t.equal((await nodeExec(1, 'sh', ['-c', serving])).exitCode, 0, 'node1\'s page server is serving the pages');
  // the lock every native dump and restore on node1 takes (criu.ts), tried without waiting
  const lock = await nodeExec(1, 'flock', ['--nonblock', '--conflict-exit-code', '75', '/run/ferry/criu.lock', 'true']);
  t.equal(lock.exitCode, 0, 'node1\'s CRIU lock is free while its page server serves (before the fix: held until the last page)');
  t.equal((await nodeExec(1, 'sh', ['-c', serving])).exitCode, 0, 'and the page server was still serving after the look');
  await unthrottle(1, 'mn0');
  await waitRunningOn(id, 'node2');
  await clear(id);
  t.same(await failedActions(1), [], 'crm_mon shows no failed actions');
  await removeResource(id);
});

t.test('a lazy dump that fails gives the container back: it runs on where it was, the same process', async (t) => {
  // called directly (under Pacemaker a failed migrate_to is followed by stop and start on both nodes anyway,
  // which would hide whether the failed dump had killed the container)
  const id = 'lz-dumpfail';
  const wrapper = useFaultWrapper(criu);
  const params = resource(id, '10.78.0.78', 64, 0).params;
  params.criu_binary = wrapper;
  await mustAgent(1, 'start', params);
  await waitFor(() => ((readCounter(counterFile(id))?.value ?? 0) > 2 ? true : undefined), { what: `${id}'s counter`, timeoutMs: 20_000 });
  const before = readCounter(counterFile(id));
  // a lazy dump CRIU refuses (deterministic: CRIU killed 40 ms in may already have finished a lazy dump's images)
  await setFault(1, 'dump-fails', true);
  const out = await agent(1, 'migrate_to', params, { migrate_source: 'node1', migrate_target: 'node2' });
  await setFault(1, 'dump-fails', false);
  t.equal(out.code, 1, 'migrate_to fails');
  t.match(out.stderr, /ocf-exit-reason:.*keeps running on node1/, `and says the container keeps running (${out.stderr.trim().split('\n').pop() ?? ''})`);
  const after = await counterSince(id, before);
  t.equal(after?.instance, before?.instance, 'the same process runs on: the failed lazy dump did not kill it');
  t.ok((after?.value ?? 0) > (before?.value ?? Infinity), `and it counts (${before?.value} -> ${after?.value})`);
  t.equal((await agent(1, 'monitor', params)).code, 0, 'monitor: running on node1');
  t.equal((await agent(2, 'monitor', params)).code, 7, 'and not on node2');
  const later = await counterSince(id, after);
  t.ok(later?.instance === before?.instance && (later?.value ?? 0) > (after?.value ?? Infinity), `and it still counts after that (${after?.value} -> ${later?.value})`);
  await mustAgent(1, 'stop', params);
});
