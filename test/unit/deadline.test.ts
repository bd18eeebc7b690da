/**
 * The agent's own deadline, set a safety margin before Pacemaker's operation timeout (10 %, at least 2 s, at
 * most 30 s) so a rollback and the exit reason still fit before Pacemaker's SIGKILL; and the waits and
 * commands bounded by it.
 */
import t from 'tap';
import { Deadline, actionDeadline, currentDeadline, setCurrentDeadline, waitUntil } from '../../src/util/deadline.js';

const NOW = 1_000_000;

t.test('the margin is 10 % of the timeout', async (t) => {
  t.equal(actionDeadline(60_000, 20_000, NOW).at, NOW + 54_000, '60 s: 6 s margin');
  t.equal(actionDeadline(120_000, 20_000, NOW).at, NOW + 108_000, '120 s: 12 s margin');
});

t.test('the margin is at least 2 s', async (t) => {
  t.equal(actionDeadline(20_000, 5_000, NOW).at, NOW + 18_000, '20 s: 2 s, not 10 %');
  t.equal(actionDeadline(10_000, 5_000, NOW).at, NOW + 8_000);
});

t.test('the margin is at most 30 s', async (t) => {
  t.equal(actionDeadline(300_000, 20_000, NOW).at, NOW + 270_000, '300 s: exactly 30 s');
  t.equal(actionDeadline(600_000, 20_000, NOW).at, NOW + 570_000, '600 s: 30 s, not 60 s');
});

t.test('without CRM_meta_timeout, the advised timeout is used the same way', async (t) => {
  t.equal(actionDeadline(undefined, 20_000, NOW).at, NOW + 18_000);
  t.equal(actionDeadline(undefined, 300_000, NOW).at, NOW + 270_000);
});

t.test('for any timeout over 3 s the deadline falls before Pacemaker\'s, by 2..30 s', async (t) => {
  const bad: string[] = [];
  for (let timeout = 3_001; timeout < 2_000_000; timeout = Math.ceil(timeout * 1.07)) {
    const margin = NOW + timeout - actionDeadline(timeout, 1, NOW).at;
    if (margin < 2_000 || margin > 30_000 || Math.abs(margin - Math.min(30_000, Math.max(2_000, timeout / 10))) > 1) {
      bad.push(`${timeout} ms: margin ${margin}`);
    }
  }
  t.same(bad, []);
});

t.test('a very short timeout still leaves 1 s to work', async (t) => {
  t.equal(actionDeadline(2_500, 20_000, NOW).at, NOW + 1_000);
  t.equal(actionDeadline(500, 20_000, NOW).at, NOW + 1_000);
  t.equal(actionDeadline(0, 20_000, NOW).at, NOW + 1_000);
});

t.test('bound(): the smaller of a command\'s limit and what is left', async (t) => {
  const d = Deadline.in(10_000);
  t.equal(d.bound(500), 500);
  const capped = d.bound(60_000) ?? 0;
  t.ok(capped <= 10_000 && capped > 9_000, `capped to what is left (${capped})`);
  const left = d.bound() ?? 0;
  t.ok(left <= 10_000 && left > 9_000, `no limit of its own: what is left (${left})`);
});

t.test('bound() of a passed deadline is 1 ms, never 0 (which would mean "no timeout")', async (t) => {
  const passed = new Deadline(Date.now() - 5_000);
  t.equal(passed.bound(5_000), 1);
  t.equal(passed.bound(), 1);
  t.equal(passed.remainingMs(), 0);
  t.equal(passed.expired(), true);
});

t.test('without a deadline, bound() keeps the command\'s own limit (or none)', async (t) => {
  const none = Deadline.none();
  t.equal(none.bound(500), 500);
  t.equal(none.bound(), undefined);
  t.equal(none.expired(), false);
});

t.test('reserve() moves the deadline earlier, leaving time for the rollback', async (t) => {
  const d = new Deadline(NOW + 60_000);
  t.equal(d.reserve(15_000).at, NOW + 45_000);
  t.equal(d.at, NOW + 60_000, 'the original is unchanged');
  t.equal(Deadline.none().reserve(15_000).at, Number.POSITIVE_INFINITY);
});

t.test('waitUntil returns the first value other than undefined, false and 0 included', async (t) => {
  let calls = 0;
  t.equal(await waitUntil('the third poll', 2_000, () => (++calls === 3 ? 'ready' : undefined), 10), 'ready');
  t.equal(calls, 3);
  t.equal(await waitUntil('false', 1_000, () => false), false);
  t.equal(await waitUntil('zero', 1_000, async () => 0), 0);
});

t.test('waitUntil gives up after its time, naming what it waited for', async (t) => {
  const started = Date.now();
  const err = await waitUntil('the container to exit', 200, () => undefined, 20).then(() => undefined, (e: unknown) => e);
  const took = Date.now() - started;
  const message = err instanceof Error ? err.message : String(err);
  const m = /^timed out after (\d+) ms waiting for the container to exit$/.exec(message);
  t.ok(m, `the reason names the wait and how long it took: ${message}`);
  const said = Number(m?.[1] ?? -1);
  // not before its time (the last poll falls within one interval of it); how much later is up to the machine's load
  t.ok(said >= 150 && said <= took, `says ${said} ms, waited ${took} ms`);
  t.ok(took >= 150 && took < 10_000, `gave up after ${took} ms, not much past its 200 ms`);
});

t.test('waitUntil also gives up at the action\'s deadline, before its own time', async (t) => {
  const saved = currentDeadline();
  t.teardown(() => setCurrentDeadline(saved));
  setCurrentDeadline(Deadline.in(200));
  const started = Date.now();
  const err = await waitUntil('the init to appear', 10_000, () => undefined, 20).then(() => undefined, (e: unknown) => e);
  const took = Date.now() - started;
  t.ok(took < 5_000, `gave up after ${took} ms, not after its own 10 s`);
  const message = err instanceof Error ? err.message : String(err);
  t.match(message, /waiting for the init to appear \(the action's deadline came first\)$/);
  t.notMatch(message, /after 10000 ms/, 'the reason does not claim a wait that did not happen');
});

t.test('the action\'s deadline counts from the process\'s start, as Pacemaker\'s timeout does', async (t) => {
  const { processStartedAt } = await import('../../src/util/deadline.js');
  const started = processStartedAt();
  t.ok(started <= Date.now() - 1 && started > Date.now() - 3_600_000, 'a start before now');
  t.ok(Math.abs(started - (Date.now() - process.uptime() * 1000)) < 50, 'taken from process.uptime()');
});
