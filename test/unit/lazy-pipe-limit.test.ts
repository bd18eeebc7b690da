/**
 * The dangerous lazy-migration failure (root without CAP_SYS_RESOURCE, low fs.pipe-max-size) is detected from
 * /proc facts before anything is frozen, explained with its fix, and makes the plan fall back (or fail in strict).
 */
import t from 'tap';
import { hasCapability, LAZY_PIPE_BYTES, lazyPipeProblem } from '../../src/criu/pipe-limit.js';
import { planMigration } from '../../src/migrate/plan.js';

// CapEff lines as read on this lab machine (root without CAP_SYS_RESOURCE) and on a stock root shell
const LAB_ROOT = 'Name:\tnode\nCapEff:\t000001fffeffffff\n';
const FULL_ROOT = 'Name:\tbash\nCapEff:\t000001ffffffffff\n';

t.test('CAP_SYS_RESOURCE is read from CapEff', async (t) => {
  t.equal(hasCapability(LAB_ROOT, 24), false, 'lab root lacks bit 24');
  t.equal(hasCapability(FULL_ROOT, 24), true, 'a full root has it');
  t.equal(hasCapability(LAB_ROOT, 21), true, 'CAP_SYS_ADMIN is there');
  t.equal(hasCapability('no caps line', 24), false);
});

t.test('the problem and its fix are named only when both conditions hold', async (t) => {
  const problem = lazyPipeProblem(1048576, false);
  t.match(problem, /fs\.pipe-max-size is 1048576/);
  t.match(problem, new RegExp(`sysctl -w fs\\.pipe-max-size=${LAZY_PIPE_BYTES}`), 'says how to fix it');
  t.equal(lazyPipeProblem(1048576, true), undefined, 'CAP_SYS_RESOURCE lets CRIU raise pipes itself');
  t.equal(lazyPipeProblem(LAZY_PIPE_BYTES, false), undefined, 'a raised limit is enough');
});

t.test('lazy types fall back, or fail in strict mode, naming the pipe limit', async (t) => {
  const lazyTransportProblem = lazyPipeProblem(1048576, false);
  const f = { memDirtyTrack: false, uffdNoncoop: true, lazyTransportProblem };
  const strict = planMigration('lazy', f, true);
  t.equal(strict.ok, false);
  t.match(strict.ok ? '' : strict.reason, /fs\.pipe-max-size is 1048576/, 'strict failure names the limit');
  const loose = planMigration('lazy', f, false);
  t.same(loose.ok && loose.type, 'simple', 'falls back to simple');
  t.match(loose.ok ? loose.fallbacks.join(' ') : '', /pipe-max-size/, 'and says why');
});
