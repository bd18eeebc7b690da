/**
 * The fast monitor, with the real executable and the real helper (`ferry serve` on loopback): a monitor or probe
 * of a container the helper judged running is answered by the agent's shell entry alone, and every case where
 * that answer could be wrong goes to the agent itself. Which path answered is told apart by running the agent
 * with a PATH where no program is found: the shell entry's fast path needs none (exit 0), the agent's path needs
 * node (exit 5, "needs Node.js").
 */
import t from 'tap';
import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AGENT, PROBE, REPO, Scratch, agent, ensureBuilt, exactly, isSameProcess, ocfEnv, recordOf, requireRootAndTools, shown, startRecorded,
  waitFor, type AgentResult,
} from './fixtures/agent.js';
import { generateAuthkey } from '../../src/helper/authkey.js';

const scratch = new Scratch('fastmon');
const runDir = scratch.runDir;
const key = join(scratch.dir, 'authkey');
/** The monitor's interval here: the helper judges every two seconds, a verdict is valid for five. */
const INTERVAL = { OCF_RESKEY_CRM_meta_interval: '4000' };
let helper: ResultPromise | undefined;

t.before(async () => {
  requireRootAndTools(['unshare', 'nsenter', 'setsid']);
  t.comment(await ensureBuilt());
  generateAuthkey(key, false);
});
t.teardown(async () => {
  helper?.kill('SIGKILL');
  await scratch.cleanup();
});

async function startHelper(): Promise<void> {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', FERRY_RUN_DIR: runDir };
  const [file, args] = exactly(env, [process.execPath, join(REPO, 'bin', 'ferry'), 'serve', '--listen', '127.0.0.1',
    '--port', String(20000 + (process.pid % 20000)), '--authkey', key, '--dir', join(scratch.dir, 'state'), '--node', 'fastmon']);
  helper = execa(file, args, { reject: false, stdin: 'ignore' });
  const keeper = join(runDir, 'verdicts', '.keeper');
  await waitFor('the helper\'s keeper file', 10_000, () => existsSync(keeper) && readFileSync(keeper, 'utf8').startsWith(`${helper?.pid} `));
}

/** The agent with nothing on PATH: only the shell entry's fast path can answer 0. */
async function withoutPrograms(action: string, params: Record<string, string>, env: Record<string, string> = INTERVAL): Promise<AgentResult> {
  const [file, args] = exactly({ ...ocfEnv({ runDir, params, env }), PATH: '/nonexistent' }, [AGENT, action]);
  const r = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 10_000 });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), ms: 0, reasons: [], timedOut: r.timedOut };
}

const verdictPath = join(runDir, 'verdicts', 'fyt');
/** A verdict of the running helper for this generation of the registration. */
const verdictFor = (generation: string) => {
  const fields = existsSync(verdictPath) ? readFileSync(verdictPath, 'utf8').split(' ') : [];
  return fields[1] === String(helper?.pid) && fields[5] === generation;
};
const generation = () => readFileSync(join(runDir, 'watch', 'fyt'), 'utf8').split('\n')[0] ?? '';

t.test('without a helper every monitor takes the agent\'s path, and says so', async (t) => {
  const name = scratch.name();
  const params = { name, command: scratch.command() };
  await startRecorded(t, runDir, params);
  const slow = await agent('monitor', { runDir, params, env: INTERVAL });
  t.equal(slow.code, 0, 'monitor: 0 (the agent itself)', shown(slow));
  t.ok(existsSync(join(runDir, 'watch', 'fyt')), 'the running container is registered for the helper');
  t.notOk(existsSync(verdictPath), 'no verdict: no helper keeps one');
  t.ok(existsSync(join(runDir, 'watch', '.slow-path-noted')), 'the slower path was noted once');
  const noNode = await withoutPrograms('monitor', params);
  t.equal(noNode.code, 5, 'without node on PATH: 5 (the fast path did not answer)', { stderr: noNode.stderr });
  t.match(noNode.stderr, /needs Node\.js/, 'and the reason says why');
  t.equal((await agent('stop', { runDir, params })).code, 0, 'stop: 0');
});

t.test('with the helper: running is answered without starting anything, until it is no longer true', async (t) => {
  const name = scratch.name();
  const flag = join(scratch.dir, `${name}.unhealthy`);
  const params = { name, command: scratch.command(), monitor_cmd: `test ! -e ${flag}` };
  const record = await startRecorded(t, runDir, params);
  await startHelper();
  t.equal((await agent('monitor', { runDir, params, env: INTERVAL })).code, 0, 'a first monitor (registers the interval): 0');
  t.match(readFileSync(join(runDir, 'watch', 'fyt'), 'utf8'), /"intervalMs":4000/, 'the registration has the monitor\'s interval');
  const gen = generation();
  await waitFor('the helper\'s verdict', 10_000, () => verdictFor(gen));
  t.equal((await withoutPrograms('monitor', params)).code, 0, 'monitor with nothing on PATH: 0, from the verdict');
  t.equal((await withoutPrograms('monitor', params, PROBE)).code, 0, 'probe with nothing on PATH: 0, from the verdict');
  t.equal((await withoutPrograms('start', params)).code, 5, 'any other action goes to the agent (5 here: no node)');
  t.equal((await withoutPrograms('monitor', params, { OCF_RESKEY_CRM_meta_interval: '6000' })).code, 5,
    'a monitor of another interval goes to the agent (which registers it)');

  // the verdict names another live process with the container's start time: a PID reused
  const stranger = execa('sleep', ['1000']);
  const fields = readFileSync(verdictPath, 'utf8').trim().split(' ');
  fields[7] = String(stranger.pid); // PID, START stays the container's
  const forged = fields.join(' ');
  helper?.kill('SIGSTOP'); // so that it does not rewrite the verdict meanwhile
  writeFileSync(verdictPath, `${forged}\n`);
  t.equal((await withoutPrograms('monitor', params)).code, 5, 'a verdict whose PID is now another process is not believed');
  writeFileSync(verdictPath, `${fields.slice(0, 4).join(' ')}\n`);
  t.equal((await withoutPrograms('monitor', params)).code, 5, 'nor a verdict cut short');
  helper?.kill('SIGCONT');
  stranger.kill('SIGKILL');
  await stranger.catch(() => undefined);

  // a helper that stalls: its verdicts run out
  await waitFor('a fresh verdict naming the container', 5000, () => readFileSync(verdictPath, 'utf8').split(' ')[7] === String(record.pid));
  helper?.kill('SIGSTOP');
  t.equal((await withoutPrograms('monitor', params)).code, 0, 'just stopped: its last verdict still holds');
  await sleep(5500);
  t.equal((await withoutPrograms('monitor', params)).code, 5, 'past the verdict\'s validity (5 s): the agent\'s path');
  helper?.kill('SIGCONT');

  // monitor_cmd fails: within one interval the helper no longer says running, and the agent says why
  const stale = readFileSync(verdictPath, 'utf8');
  await waitFor('a fresh verdict', 5000, () => readFileSync(verdictPath, 'utf8') !== stale);
  writeFileSync(flag, '');
  const failed = await pollAgent(params, 8000, (r) => r.code !== 0);
  t.equal(failed.code, 1, 'monitor_cmd failing: monitor 1 within one interval (4 s) and a refresh (2 s)', shown(failed));
  t.match(failed.reasons.join(' '), /unhealthy/, 'the reason is the agent\'s');

  // the init killed: at once, not a refresh later
  rmSync(flag);
  await pollAgent(params, 8000, (r) => r.code === 0);
  await waitFor('a verdict saying running', 8000, () => readFileSync(verdictPath, 'utf8').trim().endsWith(' 1 1'));
  t.equal((await withoutPrograms('monitor', params)).code, 0, 'healthy again: from the verdict');
  process.kill(record.pid, 'SIGKILL');
  await waitFor('the init gone', 5000, () => !isSameProcess(record.pid, record.startTime));
  const dead = await agent('monitor', { runDir, params, env: INTERVAL });
  t.not(dead.code, 0, 'init killed: the very next monitor is not 0', shown(dead));
  t.equal((await withoutPrograms('monitor', params)).code, 5, 'and it came from the agent, not the verdict');
  t.equal((await agent('stop', { runDir, params })).code, 0, 'stop: 0');
  t.notOk(existsSync(join(runDir, 'watch', 'fyt')), 'stop removed the registration');
  t.notOk(existsSync(verdictPath), 'and the verdict');
});

t.test('the helper restarted: answers stay right', async (t) => {
  const name = scratch.name();
  const params = { name, command: scratch.command() };
  await startRecorded(t, runDir, params);
  t.equal((await agent('monitor', { runDir, params, env: INTERVAL })).code, 0, 'monitor: 0');
  await waitFor('the helper\'s verdict', 10_000, () => verdictFor(generation()));
  helper?.kill('SIGKILL');
  await helper;
  t.equal((await withoutPrograms('monitor', params)).code, 5, 'helper killed: its verdict is not believed');
  t.equal((await agent('monitor', { runDir, params, env: INTERVAL })).code, 0, 'the agent\'s path still says 0');
  await startHelper();
  await waitFor('the new helper\'s verdict', 10_000, () => verdictFor(generation()));
  t.equal((await withoutPrograms('monitor', params)).code, 0, 'a new helper\'s verdict: 0 without node');
  t.equal((await agent('stop', { runDir, params })).code, 0, 'stop: 0');
  t.equal((await agent('monitor', { runDir, params, env: PROBE })).code, 7, 'probe after stop: 7');
});

t.test('an action waits for a judgement in flight, and no judgement starts once it began', async (t) => {
  const name = scratch.name();
  const params = { name, command: scratch.command() };
  await startRecorded(t, runDir, params);
  t.equal((await agent('monitor', { runDir, params, env: INTERVAL })).code, 0, 'monitor: 0');
  await waitFor('the helper\'s verdict', 10_000, () => verdictFor(generation()));
  // the helper stopped in the middle of a judgement: its marker stays until it goes on
  helper?.kill('SIGSTOP');
  const keeper = readFileSync(join(runDir, 'verdicts', '.keeper'), 'utf8');
  const marker = join(runDir, 'verdicts', '.judging.fyt');
  writeFileSync(marker, keeper);
  const began = Date.now();
  const stopping = agent('stop', { runDir, params });
  await sleep(1500);
  t.notOk(existsSync(join(runDir, 'watch', 'fyt')), 'stop removed the registration first');
  t.ok(isRunning(name), 'and has not stopped the container while a judgement is in flight');
  rmSync(marker);
  helper?.kill('SIGCONT');
  const stop = await stopping;
  t.equal(stop.code, 0, 'stop: 0 once the judgement is over', shown(stop));
  t.ok(Date.now() - began >= 1500, 'it waited for it');
  await sleep(2500);
  t.notOk(existsSync(verdictPath), 'and no verdict of it is left');
});

t.test('a rebooted node (an empty run directory): probe 7, nothing stale adopted', async (t) => {
  const fresh = scratch.subdir('rebooted');
  const r = await agent('monitor', { runDir: fresh, params: { name: scratch.name(), command: scratch.command() }, env: PROBE });
  t.equal(r.code, 7, 'probe: 7', shown(r));
});

async function pollAgent(params: Record<string, string>, ms: number, done: (r: AgentResult) => boolean): Promise<AgentResult> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await agent('monitor', { runDir, params, env: INTERVAL });
    if (done(r) || Date.now() > until) return r;
    await sleep(200);
  }
}

function isRunning(name: string): boolean {
  const r = recordOf(runDir, name);
  return r !== undefined && isSameProcess(r.pid, r.startTime);
}
