/**
 * Lazy (post-copy) migration under Pacemaker, for real on this kernel (userfaultfd works; fs.pipe-max-size is
 * raised by prepare-host.sh): a 256 MiB workload that keeps dirtying memory resumes on the target before its
 * memory has moved, its TCP session and counter survive, and the source lets go only after the last page. With
 * the pipe limit low the check catches it before anything is frozen: strict fails, non-strict falls back.
 * A page server killed while pages are missing is reported as a failure on the target, never a silent half-process.
 */
import t from 'tap';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { failedActions, labDown, labUp, nodeExec, pacemakerLog, SHARED_DIR, waitFor } from '../lab/lab.js';
import { clear, move } from '../lab/cluster.js';
import { agent } from '../lab/agent-in-node.js';
import { workloadPids } from '../lab/faults.js';
import { containerResource, counterFile, createAndWait, criuForTests, readCounter, removeResource, settleOnOne, startClient, waitRunningOn } from '../lab/scenario.js';

const PIPE_MAX = '/proc/sys/fs/pipe-max-size';
let criu = '';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  if (Number(readFileSync(PIPE_MAX, 'utf8')) < 4194304) throw new Error(`${PIPE_MAX} is below 4 MiB: run test/lab/prepare-host.sh first`);
  criu = await criuForTests();
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
  const client = startClient('10.78.0.75', 15, id);
  await new Promise((r) => setTimeout(r, 1000));
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
  const c = await client.done;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  t.same(c.errors, [], 'the TCP session was never broken');
  t.comment(`client: ${c.replies} replies, longest pause ${c.max_gap_ms} ms`);
  t.equal((await workloadPids(counterFile(id))).length, 1, 'one copy: the source\'s frozen tree is gone');
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
  t.match(await pacemakerLog(1, 400), /lazy needs .*fs\.pipe-max-size is 1048576.*falling back to simple/, 'the fallback and its reason are logged');
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'still the same process after the simple migration');
  await removeResource(id);
});

t.test('the page server killed while pages are missing: the target reports failure, one copy remains', async (t) => {
  const id = 'lz-kill';
  await createAndWait(resource(id, '10.78.0.77', 384, 0, { }), 'node1');
  await move(id, 'node2');
  // as soon as the target runs it, kill the source's page server: most of 384 MiB is still on node1
  const restoredLazily = `test -e /run/ferry/containers/${id}.json && test -e /run/ferry/lazy/${id}.lazy-pages.json`;
  await waitFor(async () => ((await nodeExec(2, 'sh', ['-c', restoredLazily])).exitCode === 0 ? true : undefined),
    { what: 'the lazy restore done on node2', timeoutMs: 60_000, intervalMs: 20 });
  // CRIU itself, as if it crashed (not the flock around it, nor its supervisor)
  await nodeExec(1, 'sh', ['-c', 'for p in $(pgrep -f "criu dump .*$1/images"); do case $(cat /proc/$p/comm) in node|flock) ;; *) kill -KILL $p ;; esac; done', 'sh', id]);
  const where = await settleOnOne(id);
  await clear(id);
  t.equal(where.length, 1, `active on one node (${where.join(',')})`);
  t.equal((await workloadPids(counterFile(id))).length, 1, 'exactly one copy of the workload exists');
  const log = `${await pacemakerLog(1, 600)}\n${await pacemakerLog(2, 600)}`;
  t.match(log, /fetching the memory of lz-kill from the source failed .*its memory is incomplete/, 'the broken restore is reported, not hidden');
  t.ok((await failedActions(1)).some((f) => f.includes('monitor')), 'Pacemaker saw a failed monitor');
  await removeResource(id);
});
