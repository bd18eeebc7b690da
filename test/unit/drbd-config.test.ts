/**
 * The single-primary check against what drbdadm 9.22 prints for the lab's r0 (test/unit/fixtures/drbd-config):
 * allow-two-primaries yes is refused with the setting to change; no, or not set (DRBD's default is no), passes.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dualPrimaryProblem } from '../../src/storage/drbd-state.js';

const dump = (v: 'yes' | 'no' | 'none') =>
  readFileSync(join(import.meta.dirname, 'fixtures', 'drbd-config', `allow-two-primaries-${v}.drbdadm-dump.txt`), 'utf8');

t.test('allow-two-primaries yes is refused, naming the setting and its fix', async (t) => {
  t.match(dualPrimaryProblem(dump('yes')), /allow-two-primaries yes.*set allow-two-primaries no/);
});

t.test('allow-two-primaries no, or not set, is single-primary', async (t) => {
  t.equal(dualPrimaryProblem(dump('no')), undefined);
  t.equal(dualPrimaryProblem(dump('none')), undefined);
});

t.test('only the setting itself counts, not a comment or another word containing it', async (t) => {
  t.equal(dualPrimaryProblem('# allow-two-primaries yes;\nresource r0 {\n}\n'), undefined);
  t.equal(dualPrimaryProblem('net {\n    allow-two-primaries-extra yes;\n}\n'), undefined);
  t.ok(dualPrimaryProblem('net {\n\tallow-two-primaries\tyes ;\n}\n'), 'tabs and spaces as drbdadm may print them');
});
