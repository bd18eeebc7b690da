/**
 * The OCF exit-code contract of the real executable, as Pacemaker and ocf-tester rely on it: meta-data and usage
 * always work (also as an unprivileged user), a missing or unknown action and an unusable configuration are
 * refused with their codes and a one-line reason, a probe of a stopped container says "not running", and
 * start/stop are idempotent (stop never answers 7).
 */
import t from 'tap';
import {
  INSTALLED_AGENT, PROBE, RECURRING, Scratch, agent, assertNothingLeft, crashLines, ensureInstalled, startRecorded,
  isSameProcess, processesMentioning, recordOf, requireRootAndTools, shown,
} from './fixtures/agent.js';

const scratch = new Scratch('exit');

t.before(async () => {
  requireRootAndTools(['setpriv', 'unshare', 'nsenter', 'setsid', 'ip']);
  t.comment(await ensureInstalled());
});
t.teardown(() => scratch.cleanup());

const runDir = scratch.runDir;

t.test('meta-data: exit 0 and the OCF metadata, also as user nobody from the installed copy', async (t) => {
  const r = await agent('meta-data', { runDir });
  t.equal(r.code, 0, 'exit 0', shown(r));
  t.match(r.stdout, /<resource-agent name="container"/, 'prints the metadata');
  t.match(r.stdout, /<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">/, 'with the doctype ocf-tester validates against');
  t.equal(r.reasons.length, 0, 'no exit reason');

  // ocf-tester runs meta-data as nobody: the installed package must be readable and runnable by anyone
  const nobody = await agent('meta-data', {
    runDir, executable: INSTALLED_AGENT, wrap: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'],
  });
  t.equal(nobody.code, 0, 'exit 0 as nobody', shown(nobody));
  t.equal(nobody.stdout, r.stdout, 'the same metadata as this build');
});

t.test('usage: exit 0, lists the actions', async (t) => {
  const r = await agent('usage', { runDir });
  t.equal(r.code, 0, 'exit 0', shown(r));
  t.match(r.stdout, /usage: container \{start\|stop\|monitor\|[^}]*meta-data[^}]*\}/, 'usage line');
});

t.test('no action: exit 2 (OCF_ERR_ARGS) with one reason', async (t) => {
  const r = await agent(undefined, { runDir });
  t.equal(r.code, 2, 'exit 2', shown(r));
  t.equal(r.reasons.length, 1, 'one ocf-exit-reason line', shown(r));
  t.same(crashLines(r.stderr), [], 'no stack trace');
});

t.test('unknown action: exit 3 (OCF_ERR_UNIMPLEMENTED) with one reason naming it', async (t) => {
  for (const action of ['frobnicate', 'promote', 'reload', 'notify']) {
    const r = await agent(action, { runDir, params: { name: scratch.name(), command: scratch.command() } });
    t.equal(r.code, 3, `${action}: exit 3`, shown(r));
    t.equal(r.reasons.length, 1, `${action}: one ocf-exit-reason line`, shown(r));
    t.match(r.reasons[0] ?? '', action, `${action}: the reason names the action`);
    t.same(crashLines(r.stderr), [], `${action}: no stack trace`);
  }
});

t.test('monitor without name: exit 6 (OCF_ERR_CONFIGURED) with a reason naming the parameter', async (t) => {
  for (const env of [RECURRING, PROBE]) {
    const r = await agent('monitor', { runDir, params: { command: scratch.command() }, env });
    t.equal(r.code, 6, `interval ${env.OCF_RESKEY_CRM_meta_interval}: exit 6`, shown(r));
    t.equal(r.reasons.length, 1, 'one ocf-exit-reason line on stderr', shown(r));
    t.match(r.reasons[0] ?? '', /\bname\b/, 'the reason names the parameter');
    t.same(crashLines(r.stderr), [], 'no stack trace');
  }
});

t.test('probe of a container that is not running: exit 7', async (t) => {
  const params = { name: scratch.name(), command: scratch.command() };
  const unset = await agent('monitor', { runDir, params });
  t.equal(unset.code, 7, 'CRM_meta_interval unset: 7', shown(unset));
  const zero = await agent('monitor', { runDir, params, env: PROBE });
  t.equal(zero.code, 7, 'CRM_meta_interval=0: 7', shown(zero));
  t.equal(unset.reasons.length + zero.reasons.length, 0, '"not running" is an answer, not a failure: no reason');
});

t.test('stop of a container never started: exit 0, and stop never answers 7', async (t) => {
  const params = { name: scratch.name(), command: scratch.command() };
  for (const round of [1, 2]) {
    const r = await agent('stop', { runDir, params });
    t.equal(r.code, 0, `stop #${round}: exit 0`, shown(r));
  }
  const noName = await agent('stop', { runDir, params: { command: scratch.command() } });
  t.equal(noName.code, 0, 'without a name nothing can be running: exit 0', shown(noName));
  const invalid = await agent('stop', { runDir, params: { ...params, stop_timeout: 'soon', ip: 'nowhere' } });
  t.equal(invalid.code, 0, 'with an invalid configuration: exit 0', shown(invalid));
});

t.test('start, monitor, start again, stop, monitor, stop', async (t) => {
  const name = scratch.name();
  const params = { name, command: scratch.command(), stop_timeout: '5' };
  const start = await agent('start', { runDir, params });
  t.equal(start.code, 0, 'start: 0', shown(start));
  const first = recordOf(runDir, name);
  t.ok(first && isSameProcess(first.pid, first.startTime), 'its init runs', { record: first });

  const monitor = await agent('monitor', { runDir, params, env: RECURRING });
  t.equal(monitor.code, 0, 'monitor: 0', shown(monitor));
  const probe = await agent('monitor', { runDir, params, env: PROBE });
  t.equal(probe.code, 0, 'probe: 0', shown(probe));

  const processes = processesMentioning(scratch.token).length;
  const again = await agent('start', { runDir, params });
  t.equal(again.code, 0, 'start again: 0', shown(again));
  t.equal(recordOf(runDir, name)?.pid, first?.pid, 'the same container (not a second one)');
  t.equal(processesMentioning(scratch.token).length, processes, 'no process was added');

  const stop = await agent('stop', { runDir, params });
  t.equal(stop.code, 0, 'stop: 0', shown(stop));
  t.notOk(first && isSameProcess(first.pid, first.startTime), 'its init is gone');
  await assertNothingLeft(t, runDir, scratch, { processes: 'no process of it remains', records: 'its record is removed' });

  const after = await agent('monitor', { runDir, params, env: RECURRING });
  t.equal(after.code, 7, 'monitor after stop: 7', shown(after));
  const stopAgain = await agent('stop', { runDir, params });
  t.equal(stopAgain.code, 0, 'stop again: 0', shown(stopAgain));
});

t.test('stop with a configuration that became invalid still stops the container', async (t) => {
  const name = scratch.name();
  const params = { name, command: scratch.command(), stop_timeout: '5' };
  const { pid } = await startRecorded(t, runDir, params);
  const stop = await agent('stop', { runDir, params: { ...params, stop_timeout: 'later', mac: 'none' } });
  t.equal(stop.code, 0, 'stop: 0', shown(stop));
  t.notOk(pid !== undefined && isSameProcess(pid), 'the container is gone');
  await assertNothingLeft(t, runDir, scratch, { processes: 'no process of it remains', records: 'no record left' });
});
