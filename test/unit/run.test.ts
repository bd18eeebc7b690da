/**
 * The one way Ferry runs external commands: the command line as logged can be pasted into a shell and runs the
 * same argv; failures carry the command, exit code (or signal, or timeout) and the tail of stderr; limits and
 * the action deadline are enforced.
 */
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, lastLines, renderCommand, run } from '../../src/util/run.js';
import { Deadline, currentDeadline, setCurrentDeadline } from '../../src/util/deadline.js';
import { int, pick, seeded } from './fixtures/random.js';
import { rejection } from './fixtures/rejection.js';

/** Runs the rendered command line through sh and returns the argv printf saw (NUL-separated). */
async function replay(args: string[]): Promise<string[]> {
  const line = renderCommand('printf', ['%s\\0', ...args]);
  const r = await execa('sh', ['-c', line], { stripFinalNewline: false, encoding: 'utf8' });
  return r.stdout.split('\0').slice(0, -1);
}

const rejected = (p: Promise<unknown>) => rejection(p, CommandError);

t.test('renderCommand leaves plain words alone', async (t) => {
  t.equal(renderCommand('ip', ['link', 'set', 'fy0123456789', 'master', 'br0', 'up']), 'ip link set fy0123456789 master br0 up');
  t.equal(renderCommand('/opt/ferry/criu/criu', ['dump', '--tree', '4242', '--images-dir', '/srv/x/images/2025-a', '-v4']),
    '/opt/ferry/criu/criu dump --tree 4242 --images-dir /srv/x/images/2025-a -v4');
  t.equal(renderCommand('nsenter', ['--net=/proc/42/ns/net', 'nft', 'list', 'tables']), 'nsenter --net=/proc/42/ns/net nft list tables');
});

t.test('renderCommand quotes what the shell would change', async (t) => {
  t.equal(renderCommand('sh', ['-c', 'echo $HOME']), 'sh -c \'echo $HOME\'');
  t.equal(renderCommand('echo', ['it\'s']), 'echo \'it\'\\\'\'s\'');
  t.equal(renderCommand('echo', ['']), 'echo \'\'', 'an empty argument stays an argument');
  t.equal(renderCommand('echo', ['*']), 'echo \'*\'');
  t.equal(renderCommand('echo', ['~']), 'echo \'~\'');
});

t.test('a rendered command line replays by sh to exactly the same arguments', async (t) => {
  const nasty = ['plain', '', ' ', 'two words', 'it\'s', '\'', '\'\'', '"', '$HOME', '${x:-y}', '`id`', '$(id)', '\\', '\\n',
    'a\nb', 'tab\there', '*', '?', '[a]', '~', '~root', '#comment', ';', '&&', '|', '>', '<', '!', '-n', '--', '=', 'a=b', '%s',
    'é中😀', '\u00a0', '\r'];
  t.same(await replay(nasty), nasty);
});

t.test('replay holds for random arguments (seeded)', async (t) => {
  const rnd = seeded(0xc0ffee);
  const chars = 'aZ09 _-./:=@%+,\'"\\$`!*?[]{}()<>|&;#~\t\néø';
  const args = Array.from({ length: 300 }, () => {
    let s = '';
    for (let n = int(rnd, 0, 12); n > 0; n -= 1) s += pick(rnd, [...chars]);
    return s;
  });
  t.same(await replay(args), args);
});

t.test('run returns the command\'s output and exit code', async (t) => {
  const r = await run('sh', ['-c', 'echo out; echo err >&2']);
  t.same(r, { command: 'sh -c \'echo out; echo err >&2\'', exitCode: 0, stdout: 'out', stderr: 'err', timedOut: false, signal: undefined });
});

t.test('a failure is a CommandError with the command line, exit code and the last lines of stderr', async (t) => {
  const script = 'echo one >&2; echo two >&2; echo three >&2; echo four >&2; exit 3';
  const err = await rejected(run('sh', ['-c', script]));
  t.equal(err.command, renderCommand('sh', ['-c', script]));
  t.equal(err.exitCode, 3);
  t.equal(err.timedOut, false);
  t.match(err.stderr, 'one');
  t.equal(err.message, `${renderCommand('sh', ['-c', script])}: exit code 3: two | three | four`);
});

t.test('allowFailure returns the failed result instead', async (t) => {
  const r = await run('sh', ['-c', 'echo nope >&2; exit 5'], { allowFailure: true });
  t.equal(r.exitCode, 5);
  t.equal(r.stderr, 'nope');
});

t.test('a command killed by a signal says so', async (t) => {
  const err = await rejected(run('sh', ['-c', 'kill -KILL $$']));
  t.equal(err.signal, 'SIGKILL');
  t.match(err.message, /: killed by SIGKILL$/);
});

t.test('a missing program is a CommandError that says why', async (t) => {
  const err = await rejected(run('/nonexistent/ferry-no-such-program', ['x']));
  t.match(err.message, /^\/nonexistent\/ferry-no-such-program x: .*ENOENT/);
});

t.test('a command over its time limit is stopped and reported as timed out', async (t) => {
  const started = Date.now();
  const err = await rejected(run('sleep', ['30'], { timeoutMs: 200 }));
  t.ok(Date.now() - started < 15_000, `stopped after ${Date.now() - started} ms, long before sleep's own 30 s`);
  t.equal(err.timedOut, true);
  t.equal(err.message, 'sleep 30: timed out');
  const allowed = await run('sleep', ['30'], { timeoutMs: 200, allowFailure: true });
  t.not(allowed.exitCode, 0, 'with allowFailure the result is still a failure');
});

t.test('the action deadline bounds a command that has no limit of its own', async (t) => {
  const saved = currentDeadline();
  t.teardown(() => setCurrentDeadline(saved));
  setCurrentDeadline(Deadline.in(300));
  const started = Date.now();
  const err = await rejected(run('sleep', ['30']));
  t.equal(err.timedOut, true);
  t.ok(Date.now() - started < 15_000, `stopped after ${Date.now() - started} ms, long before sleep's own 30 s`);
});

t.test('a command is not left waiting on stdin; input is passed when given', async (t) => {
  // cat left on an open stdin would run into its limit: the outcome says which, not a stopwatch
  const r = await run('cat', [], { timeoutMs: 30_000, allowFailure: true });
  t.same({ exitCode: r.exitCode, timedOut: r.timedOut, stdout: r.stdout }, { exitCode: 0, timedOut: false, stdout: '' }, 'cat sees end of input at once');
  t.equal((await run('cat', [], { input: 'link set lo up\n' })).stdout, 'link set lo up');
});

t.test('cwd and env are passed on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal((await run('pwd', [], { cwd: dir })).stdout, realpathSync(dir));
  t.equal((await run('sh', ['-c', 'echo "$FERRY_TEST_VAR"'], { env: { FERRY_TEST_VAR: 'x y' } })).stdout, 'x y');
});

t.test('a command whose background child keeps its output open still returns within its limit', async (t) => {
  // the children live 30 s, so "returned at once" and "waited for the child" are far apart on any machine
  const started = Date.now();
  const r = await run('sh', ['-c', 'sleep 30 & echo $!'], { timeoutMs: 500, allowFailure: true });
  const took = Date.now() - started;
  const orphan = Number(r.stdout);
  t.teardown(() => { try { if (orphan > 0) process.kill(orphan, 'SIGKILL'); } catch { /* gone already */ } });
  t.equal(r.exitCode, 0, 'the command itself succeeded');
  t.ok(took < 10_000, `returned after ${took} ms (the shell exited at once; its child lives 30 s)`);
  const hanging = Date.now();
  const timedOut = await run('sh', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300, allowFailure: true });
  const took2 = Date.now() - hanging;
  const child = Number(timedOut.stdout);
  t.teardown(() => { try { if (child > 0) process.kill(child, 'SIGKILL'); } catch { /* gone already */ } });
  t.ok(timedOut.timedOut, 'the shell waiting on its child is timed out');
  t.ok(took2 < 10_000, `a timed-out command returned after ${took2} ms (limit 300 ms; its child lives 30 s)`);
});

t.test('lastLines keeps the last lines of a text, joined for one line', async (t) => {
  t.equal(lastLines('a\nb\nc\nd\n'), 'b | c | d');
  t.equal(lastLines('only'), 'only');
  t.equal(lastLines('a\nb\nc', 1), 'c');
});

/** Whether a process with this PID exists (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

t.test('killTree: a timeout kills what the wrapper started, not only the wrapper (flock around CRIU)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-run-'));
  const pidFile = join(dir, 'child.pid');
  // the child writes its pid, then the wrapper waits on it, as flock waits on CRIU
  const r = await run('sh', ['-c', 'sleep 30 & echo $! > "$1"; wait', 'sh', pidFile], { timeoutMs: 300, killTree: true, allowFailure: true });
  t.ok(r.timedOut, 'reported as timed out');
  const child = Number(readFileSync(pidFile, 'utf8'));
  // SIGKILLed, it is gone as soon as its parent reaps it: wait for that, bounded, rather than a fixed 100 ms
  const until = Date.now() + 10_000;
  while (alive(child) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  t.notOk(alive(child), `the wrapper's child ${child} is gone too`);
  rmSync(dir, { recursive: true, force: true });
});

t.test('killTree: an abort signal ends the command early the same way', async (t) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const started = Date.now();
  const r = await run('sh', ['-c', 'sleep 30 & wait'], { killTree: true, signal: controller.signal, allowFailure: true, timeoutMs: 10_000 });
  t.ok(Date.now() - started < 5000, 'ended well before its time limit');
  t.notOk(r.timedOut, 'an abort is not a timeout');
  t.not(r.exitCode, 0, 'and not a success');
});

t.test('without killTree a plain timeout still works', async (t) => {
  const r = await run('sleep', ['30'], { timeoutMs: 200, allowFailure: true });
  t.ok(r.timedOut);
});
