/**
 * When iterative pre-copy stops: each rule on its own, their order, and the estimate of the final downtime.
 */
import t from 'tap';
import { estimateFinalMs, nextStep, type ConvergenceLimits, type PrecopyRound } from '../../src/migrate/convergence.js';

const LIMITS: ConvergenceLimits = { maxIterations: 8, convergePages: 64, maxGrowthPercent: 10, downtimeTargetMs: 300 };
const round = (pagesWritten: number, memWriteMs = pagesWritten / 100, frozenMs = 50): PrecopyRound => ({ pagesWritten, memWriteMs, frozenMs });

t.test('no round yet: copy', async (t) => {
  t.same(nextStep([], LIMITS), { again: true, estimateMs: undefined });
});

t.test('a first big round goes on while the estimate is above target', async (t) => {
  const v = nextStep([round(65536, 900)], LIMITS);
  t.equal(v.again, true);
  t.equal(v.estimateMs, 950, 'frozen time plus the time to write as many pages again');
});

t.test('converged: a round at or under converge_pages stops', async (t) => {
  const v = nextStep([round(65536, 900), round(64, 1)], LIMITS);
  t.equal(v.again, false);
  if (!v.again) t.match(v.why, /round 2 wrote 64 pages \(at most 64\): converged/);
  t.equal(nextStep([round(65536, 900), round(65, 400)], LIMITS).again, true, 'one page more is not converged');
});

t.test('not converging: a round writing more than max_growth_percent above the previous stops', async (t) => {
  const v = nextStep([round(10000, 500), round(11001, 550)], LIMITS);
  t.equal(v.again, false);
  if (!v.again) t.match(v.why, /11001 pages, more than 10 % above the 10000 before: not converging/);
  t.equal(nextStep([round(10000, 500), round(11000, 550)], LIMITS).again, true, 'exactly 10 % more is still tolerated');
});

t.test('within the downtime target: stop even when pages remain', async (t) => {
  const v = nextStep([round(65536, 900), round(20000, 200, 90)], LIMITS);
  t.equal(v.again, false);
  if (!v.again) t.match(v.why, /estimated final downtime 290 ms is within migration_downtime=300/);
  t.equal(nextStep([round(65536, 900), round(20000, 260, 90)], LIMITS).again, true, '350 ms is not');
});

t.test('max_iterations ends it whatever the figures', async (t) => {
  const rounds = Array.from({ length: 8 }, () => round(50000, 800));
  const v = nextStep(rounds, LIMITS);
  t.equal(v.again, false);
  if (!v.again) t.match(v.why, /max_iterations=8 rounds made/);
  t.equal(nextStep(rounds.slice(0, 7), LIMITS).again, true);
});

t.test('convergence is reported before the other reasons', async (t) => {
  const v = nextStep([round(10), round(60, 0, 10)], { ...LIMITS, maxIterations: 2 });
  if (!v.again) t.match(v.why, /converged/, 'grew 6x, reached max_iterations, within target: converged wins');
});

t.test('the estimate never goes negative', async (t) => {
  t.equal(estimateFinalMs({ pagesWritten: 0, memWriteMs: -5, frozenMs: -1 }), 0);
});
