/**
 * The DRBD state parsers and decisions against real outputs of DRBD 8.4.11 / drbd-utils 9.22, captured in the
 * guest lab (test/unit/fixtures/drbd, README there): every case reads the same through drbdadm and /proc/drbd,
 * and each decision (run here, take over in a migration, start, hand off) comes out as an admin would want.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromDrbdadmRuns, fromProcDrbd, handOffProblem, runProblem, startProblem, takeOverProblem, type DrbdState } from '../../src/storage/drbd-state.js';

const DIR = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'drbd');
interface Capture { case: string; guest: string; command: string[]; exitCode: number; stdout: string; stderr: string | null }
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as Capture[];

function run(kase: string, what: string): { exitCode: number; stdout: string } {
  const c = index.find((x) => x.case === kase && x.command.join(' ') === what);
  if (!c) throw new Error(`no capture of "${what}" for ${kase}`);
  return { exitCode: c.exitCode, stdout: readFileSync(join(DIR, c.stdout), 'utf8') };
}

function state(kase: string, resource = 'r0'): DrbdState {
  return fromDrbdadmRuns(run(kase, `drbdadm role ${resource}`), run(kase, `drbdadm cstate ${resource}`), run(kase, `drbdadm dstate ${resource}`));
}

const CASES = [...new Set(index.map((c) => c.case))].filter((c) => c !== 'unknown-resource');

t.test('every capture is there', async (t) => {
  t.ok(CASES.length >= 11, `${CASES.length} cases`);
});

t.test('drbdadm and /proc/drbd read the same state in every case', async (t) => {
  for (const kase of CASES) {
    const viaDrbdadm = state(kase);
    const viaProc = fromProcDrbd(run(kase, 'cat /proc/drbd').stdout, 0);
    if (viaDrbdadm.role === 'Unconfigured') {
      t.equal(viaProc, undefined, `${kase}: down, so no minor in /proc/drbd`);
      continue;
    }
    t.same(viaProc, viaDrbdadm, kase);
  }
});

/** [case, run here, take over (migration target), start (failover), hand off (migration source)]: a regexp = refused with it. */
const EXPECTED: [string, RegExp | undefined, RegExp | undefined, RegExp | undefined, RegExp | undefined][] = [
  ['fresh-inconsistent', /Secondary, not Primary/, /Inconsistent, not UpToDate/, /Inconsistent, not UpToDate/, /not Primary/],
  ['initial-sync--source', undefined, /not connected \(SyncSource\)/, undefined, /not connected \(SyncSource\)/],
  ['initial-sync--target', /Secondary/, /Inconsistent, not UpToDate \(SyncTarget: the resync is not finished\)/, /Inconsistent/, /not Primary/],
  ['primary-secondary--primary', undefined, undefined, undefined, undefined], // taking over again is a no-op retry
  ['primary-secondary--secondary', /Secondary, not Primary/, /still Primary/, /peer is Primary/, /not Primary/],
  // a migration target whose link went away after the source handed over may promote alone (drbd-state.ts)
  ['peer-disconnected--primary-waiting', undefined, undefined, /not the last Primary/, /not connected \(WFConnection\)/],
  ['peer-disconnected--secondary-standalone', /Secondary/, /StandAlone/, /not the last Primary/, /not Primary/],
  ['secondary-secondary', /Secondary/, undefined, undefined, /not Primary/],
  ['down--peer-waiting', /Secondary/, undefined, /not the last Primary/, /not Primary/],
  ['down--unconfigured', /Unconfigured/, /not configured/, /not configured/, /not Primary/],
  ['split-brain--guest1', undefined, /StandAlone.*split-brain/, /not the last Primary/, /not connected \(StandAlone\)/],
  ['split-brain--guest2', undefined, /StandAlone.*split-brain/, /not the last Primary/, /not connected \(StandAlone\)/],
];

t.test('decisions on real states', async (t) => {
  for (const [kase, here, takeOver, start, handOff] of EXPECTED) {
    const s = state(kase);
    const check = (what: string, got: string | undefined, want: RegExp | undefined) => {
      if (want) t.match(got, want, `${kase}: ${what} refused`);
      else t.equal(got, undefined, `${kase}: ${what} allowed`);
    };
    check('running here', runProblem(s), here);
    check('taking over', takeOverProblem(s), takeOver);
    check('starting', startProblem(s), start);
    check('handing off', handOffProblem(s), handOff);
  }
});

t.test('an unknown resource reads as not configured, whatever dstate says', async (t) => {
  const s = state('unknown-resource', 'nosuch');
  t.equal(s.connection, 'Unconfigured');
  t.match(takeOverProblem(s), /not configured/);
  t.equal(run('down--unconfigured', 'drbdadm dstate r0').exitCode, 0, 'dstate answers for a down resource (the trap this guards against)');
});
