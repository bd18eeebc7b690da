/**
 * Process identity from /proc: a PID plus its start time, so a PID reused by another process is never taken
 * for the container's init; zombies are not alive; and whether a process handles SIGTERM (an init that does
 * not would ignore it). Uses this test's own process and children it starts itself.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { catchesSignal, childrenOf, identityOf, isAlive, parseStat, readStat } from '../../src/util/proc.js';

/** A /proc/PID/stat line: fields 3..52 after the command name, with ppid 7 and start time 123456. */
function statLine(pid: number, comm: string, state = 'S'): string {
  const rest = Array.from({ length: 50 }, (_, i) => String(i + 3));
  rest[0] = state;
  rest[1] = '7';
  rest[19] = '123456';
  return `${pid} (${comm}) ${rest.join(' ')}\n`;
}

function start(t: { teardown(fn: () => void): void }, script: string): ChildProcess {
  const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return child;
}

async function firstLine(child: ChildProcess): Promise<string> {
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return chunk.toString().trim();
}

async function until<T>(what: string, check: () => T | undefined, ms = 10_000): Promise<T> {
  const stop = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('parseStat counts fields from the last ")", whatever the command name holds', async (t) => {
  for (const comm of ['sleep', 'a) b) c', 'web server', '(', ')', ') S 9 9', 'x)y (z', '']) {
    t.same(parseStat(statLine(123, comm)), { state: 'S', ppid: 7, startTime: 123456 }, JSON.stringify(comm));
  }
  t.equal(parseStat(statLine(1, 'zombie', 'Z'))?.state, 'Z');
});

t.test('parseStat gives undefined for what is not a stat line', async (t) => {
  t.equal(parseStat(''), undefined);
  t.equal(parseStat('123 no parentheses S 1 2 3'), undefined);
  t.equal(parseStat('123 (cut) S'), undefined, 'truncated before ppid');
  t.equal(parseStat('123 (cut) S 1 2 3'), undefined, 'truncated before the start time');
});

t.test('parseStat reads this process\'s real stat', async (t) => {
  const stat = parseStat(readFileSync('/proc/self/stat', 'utf8'));
  t.equal(stat?.ppid, process.ppid);
  t.equal(stat?.state, 'R', 'reading its own stat, the process is running');
  t.ok((stat?.startTime ?? 0) > 0);
});

t.test('this process is alive under its identity; the same PID with another start time is not', async (t) => {
  const me = identityOf(process.pid);
  t.ok(me);
  if (!me) return;
  t.equal(me.pid, process.pid);
  t.equal(isAlive(me), true);
  t.equal(isAlive({ pid: me.pid, startTime: me.startTime + 1 }), false, 'a reused PID is another process');
  t.equal(isAlive({ pid: me.pid, startTime: me.startTime - 1 }), false);
  t.same(identityOf(process.pid), me, 'the identity is stable');
});

t.test('a process that has exited is neither alive nor identifiable', async (t) => {
  const child = start(t, 'exit 0');
  const pid = child.pid as number;
  const id = identityOf(pid);
  await once(child, 'exit');
  await until('the child to be reaped', () => (readStat(pid) === undefined ? true : undefined));
  t.equal(identityOf(pid), undefined);
  if (id) t.equal(isAlive(id), false, 'its identity taken while it ran is no longer alive');
  t.equal(isAlive({ pid: 2 ** 22 + 1, startTime: 1 }), false, 'a PID above pid_max');
});

t.test('a zombie is not alive', async (t) => {
  // the shell forks a child that exits at once, then becomes `sleep`, which never reaps it
  const parent = start(t, 'sleep 0 & exec sleep 30');
  const zombie = await until('the zombie child', () => {
    const [pid] = childrenOf(parent.pid as number);
    return pid !== undefined && readStat(pid)?.state === 'Z' ? pid : undefined;
  });
  const id = identityOf(zombie);
  t.ok(id, 'a zombie still has a stat entry');
  if (id) t.equal(isAlive(id), false);
  t.equal(isAlive(identityOf(parent.pid as number) ?? { pid: 0, startTime: 0 }), true, 'its parent is alive');
});

t.test('catchesSignal tells a shell that traps TERM from a process that does not', async (t) => {
  const trapping = start(t, 'trap "exit 0" TERM; echo ready; while :; do sleep 1; done');
  const plain = start(t, 'echo ready; exec sleep 30');
  t.equal(await firstLine(trapping), 'ready');
  t.equal(await firstLine(plain), 'ready');
  t.equal(catchesSignal(trapping.pid as number, 15), true, 'the trap installs a SIGTERM handler');
  t.equal(catchesSignal(plain.pid as number, 15), false, 'sleep has none: as a PID-namespace init it would ignore SIGTERM');
  t.equal(catchesSignal(trapping.pid as number, 12), false, 'other signals are read from their own bit (SIGUSR2)');
  t.equal(catchesSignal(trapping.pid as number, 14), false, 'SIGALRM, the neighbouring bit, is not trapped');
  t.equal(catchesSignal(2 ** 22 + 1, 15), false, 'no such process');
});
