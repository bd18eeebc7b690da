/**
 * The migration engine's backbone: named phases run in order; when one fails, its own undo and those of the
 * phases already done run in reverse, every undo is attempted even if another fails, and the error says which
 * phase failed and what could not be put back.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhaseError, runPhases, type Phase, type PhaseTiming } from '../../src/migrate/phases.js';
import { configureLogging, flushLogs } from '../../src/util/log.js';
import { rejection } from './fixtures/rejection.js';

const logDir = mkdtempSync(join(tmpdir(), 'ferry-phases-'));
const logFile = join(logDir, 'ha.log');
configureLogging({ tag: 'container(web1)[1]', facility: undefined, logFile, debugLog: undefined, debug: false, stderr: false });
t.teardown(() => rmSync(logDir, { recursive: true, force: true }));

/** Phases that record what ran into `events`; `fail` names phases whose run (or `undo:NAME`, undo) throws. */
function phases(names: string[], events: string[], fail: string[] = [], withoutUndo: string[] = []): Phase[] {
  return names.map((name) => ({
    name,
    async run() {
      events.push(`run:${name}`);
      if (fail.includes(name)) throw new Error(`${name} broke`);
    },
    ...(withoutUndo.includes(name) ? {} : {
      async undo() {
        events.push(`undo:${name}`);
        if (fail.includes(`undo:${name}`)) throw new Error(`cannot undo ${name}`);
      },
    }),
  }));
}

const failure = (p: Promise<unknown>) => rejection(p, PhaseError);

t.test('phases run in order, and only run (no undo) when all succeed', async (t) => {
  const events: string[] = [];
  const timings = await runPhases(phases(['freeze', 'dump', 'handover'], events));
  t.same(events, ['run:freeze', 'run:dump', 'run:handover']);
  t.same(timings.map((x) => x.phase), ['freeze', 'dump', 'handover']);
});

t.test('each phase\'s duration is recorded, appended to the list the caller passes', async (t) => {
  const slow: Phase = { name: 'slow', run: () => new Promise((r) => setTimeout(r, 200)) };
  const fast: Phase = { name: 'fast', run: async () => undefined };
  const earlier: PhaseTiming[] = [{ phase: 'earlier', ms: 5 }];
  const timings = await runPhases([slow, fast], earlier);
  t.equal(timings, earlier, 'the same array comes back');
  t.same(timings.map((x) => x.phase), ['earlier', 'slow', 'fast']);
  // a timer never fires early (1 ms of rounding aside); how late, and how long a no-op takes, is up to the machine
  t.ok((timings[1]?.ms ?? 0) >= 190, `slow took ${timings[1]?.ms} ms (at least its 200 ms)`);
  t.ok((timings[2]?.ms ?? -1) >= 0 && (timings[2]?.ms ?? Infinity) < (timings[1]?.ms ?? 0), `fast took ${timings[2]?.ms} ms, less than slow`);
});

t.test('a failure undoes the failing phase, then the completed ones in reverse; later phases never run', async (t) => {
  const events: string[] = [];
  const err = await failure(runPhases(phases(['lock', 'freeze', 'dump', 'handover'], events, ['dump'])));
  t.same(events, ['run:lock', 'run:freeze', 'run:dump', 'undo:dump', 'undo:freeze', 'undo:lock']);
  t.equal(err.phase, 'dump');
  t.equal((err.failure as Error).message, 'dump broke', 'the original error is kept');
  t.equal(err.message, 'dump: dump broke');
  t.same(err.undoErrors, []);
});

t.test('a failing first phase undoes only itself', async (t) => {
  const events: string[] = [];
  const err = await failure(runPhases(phases(['lock', 'freeze'], events, ['lock'])));
  t.same(events, ['run:lock', 'undo:lock']);
  t.equal(err.phase, 'lock');
});

t.test('phases without an undo are skipped in the rollback', async (t) => {
  const events: string[] = [];
  await failure(runPhases(phases(['a', 'b', 'c', 'd'], events, ['d'], ['b', 'd'])));
  t.same(events, ['run:a', 'run:b', 'run:c', 'run:d', 'undo:c', 'undo:a']);
});

t.test('an undo that fails does not stop the others; every such failure is in the error', async (t) => {
  const events: string[] = [];
  const err = await failure(runPhases(phases(['a', 'b', 'c', 'd'], events, ['d', 'undo:c', 'undo:a'])));
  t.same(events, ['run:a', 'run:b', 'run:c', 'run:d', 'undo:d', 'undo:c', 'undo:b', 'undo:a']);
  t.same(err.undoErrors, ['c: cannot undo c', 'a: cannot undo a']);
  t.equal(err.message, 'd: d broke; rollback problems: c: cannot undo c; a: cannot undo a');
});

t.test('a thrown non-Error value still explains itself', async (t) => {
  const err = await failure(runPhases([{ name: 'odd', run: async () => { throw 'plain string'; } }]));
  t.equal(err.message, 'odd: plain string');
  t.equal(err.failure, 'plain string');
});

t.test('timings of the phases completed before a failure stay in the caller\'s list', async (t) => {
  const timings: PhaseTiming[] = [];
  await failure(runPhases(phases(['a', 'b', 'c'], [], ['c']), timings));
  t.same(timings.map((x) => x.phase), ['a', 'b']);
});

t.test('the failure and each rollback are logged for the admin', async (t) => {
  await failure(runPhases(phases(['freeze', 'dump'], [], ['dump', 'undo:freeze'])));
  await flushLogs();
  const log = readFileSync(logFile, 'utf8');
  t.match(log, /container\(web1\)\[1\]: WARNING: phase dump failed: dump broke; rolling back/);
  t.match(log, /INFO: rolled back dump/);
});
