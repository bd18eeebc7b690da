/**
 * Failures Pacemaker must hear about in time: a start whose monitor_cmd never passes ends before the operation
 * timeout (CRM_meta_timeout) with a reason and leaves nothing behind; a container whose init died is a failure
 * for a recurring monitor, "not running" for a probe, and stop cleans up after it.
 */
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import {
  PROBE, RECURRING, Scratch, agent, assertNothingLeft, containerRecords, crashLines, ensureBuilt, eventually, isSameProcess,
  pidNamespaceMembers, pidNamespaceOf, remaining, requireRootAndTools, shown, startRecorded, waitFor,
} from './fixtures/agent.js';

const scratch = new Scratch('fail');
const runDir = scratch.runDir;

t.before(async () => {
  requireRootAndTools(['unshare', 'nsenter', 'setsid', 'ip', 'hostname']);
  t.comment(await ensureBuilt());
});
t.teardown(() => scratch.cleanup());

t.test('start whose monitor_cmd never passes returns before CRM_meta_timeout', async (t) => {
  const params = { name: scratch.name(), command: scratch.command(), monitor_cmd: 'echo not yet >&2; false', stop_timeout: '1' };
  const r = await agent('start', { runDir, params, env: { OCF_RESKEY_CRM_meta_timeout: '6000' }, timeoutMs: 15_000 });
  t.not(r.code, 0, `non-zero (${r.code})`, shown(r));
  t.not(r.code, 7, 'not "not running" (start never answers 7)');
  // Pacemaker's bound, measured from the fork as Pacemaker does: the agent's own margin (2 s here) covers Node's start
  t.ok(r.ms < 6000, `returned after ${r.ms} ms, before the 6000 ms operation timeout`);
  t.equal(r.reasons.length, 1, 'one exit reason', shown(r));
  t.match(r.reasons[0] ?? '', /monitor_cmd did not pass before the start timeout.*not yet/, 'the reason says why, with monitor_cmd\'s own words');
  t.same(crashLines(r.stderr), [], 'no stack trace');
  await assertNothingLeft(t, runDir, scratch);
  const probe = await agent('monitor', { runDir, params, env: PROBE });
  t.equal(probe.code, 7, 'a probe afterwards: not running', shown(probe));
});

t.test('a container whose init died: monitor 1, probe 7, stop 0 and cleans up', async (t) => {
  const name = scratch.name();
  const params = { name, command: scratch.command(), stop_timeout: '2' };
  const record = await startRecorded(t, runDir, params, 'start: 0');
  process.kill(record.pid, 'SIGKILL'); // the whole PID namespace dies with its init
  await waitFor('the container init to die', 30_000, () => !isSameProcess(record.pid, record.startTime));

  const monitor = await agent('monitor', { runDir, params, env: RECURRING });
  t.equal(monitor.code, 1, 'recurring monitor: 1 (OCF_ERR_GENERIC)', shown(monitor));
  t.equal(monitor.reasons.length, 1, 'one exit reason');
  t.match(monitor.reasons[0] ?? '', new RegExp(`container ${name} failed: its init \\(pid ${record.pid}\\) has exited`), 'the reason says its init exited');
  t.same(crashLines(monitor.stderr), [], 'no stack trace');

  const probe = await agent('monitor', { runDir, params, env: PROBE });
  t.equal(probe.code, 7, 'probe: 7', shown(probe));
  const unsetInterval = await agent('monitor', { runDir, params });
  t.equal(unsetInterval.code, 7, 'probe without CRM_meta_interval: 7', shown(unsetInterval));

  const stop = await agent('stop', { runDir, params });
  t.equal(stop.code, 0, 'stop: 0', shown(stop));
  await assertNothingLeft(t, runDir, scratch, { processes: 'nothing of the container runs', records: 'the record is removed' });
  const after = await agent('monitor', { runDir, params, env: RECURRING });
  t.equal(after.code, 7, 'monitor after stop: 7 (cleanly stopped, no longer failed)', shown(after));
  const again = await agent('start', { runDir, params });
  t.equal(again.code, 0, 'it can be started again', shown(again));
  const stopAgain = await agent('stop', { runDir, params });
  t.equal(stopAgain.code, 0, 'and stopped', shown(stopAgain));
});

t.test('a monitor_cmd that hangs: monitor fails before its timeout, says so, and leaves nothing behind', async (t) => {
  const name = scratch.name();
  const flag = `${scratch.dir}/healthy-${name}`;
  writeFileSync(flag, '');
  const params = { name, command: scratch.command(), stop_timeout: '2', monitor_cmd: `test -e ${flag} || sleep 30 # ${name}` };
  const record = await startRecorded(t, runDir, params, 'start (monitor_cmd passes at first): 0');
  const ns = pidNamespaceOf(record.pid);
  if (!ns) throw new Error('the container is not running');
  const members = pidNamespaceMembers(ns).length;

  rmSync(flag);
  const r = await agent('monitor', { runDir, params, env: { ...RECURRING, OCF_RESKEY_CRM_meta_timeout: '5000' }, timeoutMs: 15_000 });
  t.equal(r.code, 1, 'monitor: 1', shown(r));
  t.ok(r.ms < 5000, `returned after ${r.ms} ms, before the 5000 ms timeout`);
  t.equal(r.reasons.length, 1, 'one exit reason');
  t.match(r.reasons[0] ?? '', /monitor_cmd .*(timed out|did not finish|within)/, 'the reason says monitor_cmd timed out');
  // a killed monitor_cmd takes a moment to vanish (longer on a loaded machine): wait for it, bounded
  const settled = await eventually(10_000, () => pidNamespaceMembers(ns).length, (n) => n === members);
  t.equal(settled, members, 'no process of the monitor_cmd is left in the container');

  const stop = await agent('stop', { runDir, params });
  t.equal(stop.code, 0, 'stop: 0', shown(stop));
  t.same(pidNamespaceMembers(ns), [], 'stop ends every process of the container, stray monitor_cmds included');
  t.same(await scratch.leftovers(), [], 'nothing of the container runs');
});

t.test('stop_timeout longer than the stop operation allows: stop still ends the container in time and succeeds', async (t) => {
  const name = scratch.name();
  // a process that ignores SIGTERM keeps the container up until SIGKILL
  const command = `sh -c 'trap "" TERM; while :; do sleep 1; done # ${name}' & wait # ${name}`;
  const params = { name, command, stop_timeout: '3600' };
  const record = await startRecorded(t, runDir, params, 'start: 0');

  const stop = await agent('stop', { runDir, params, env: { OCF_RESKEY_CRM_meta_timeout: '5000' }, timeoutMs: 15_000 });
  t.ok(stop.ms < 5000, `stop returned after ${stop.ms} ms, before the 5000 ms timeout`);
  const alive = await eventually(10_000, () => isSameProcess(record.pid, record.startTime), (a) => !a);
  t.notOk(alive, 'the container is gone (SIGKILL before the deadline)');
  t.same(await remaining(name), [], 'no process of it remains');
  t.equal(stop.code, 0, 'stop: 0 (a failed stop gets the node fenced)', shown(stop));
  t.same(containerRecords(runDir), [], 'no record left');
  const again = await agent('stop', { runDir, params });
  t.equal(again.code, 0, 'a second stop: 0', shown(again));
  t.same(containerRecords(runDir), [], 'and no record is left after it');
});
