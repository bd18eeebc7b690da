/**
 * Which migration type is actually performed, for every requested type and every combination of what the node
 * pair offers (soft-dirty tracking for iterative; non-cooperative userfaultfd and a working lazy-pages
 * transport for lazy): without strict it always ends on a type this version performs, saying why at each
 * step; with strict it refuses before anything is frozen, naming what is missing.
 */
import t from 'tap';
import { IMPLEMENTED, planMigration, type NodeFeatures } from '../../src/migrate/plan.js';
import { MIGRATION_TYPES, type MigrationType } from '../../src/settings/params.js';

const PIPE = 'fs.pipe-max-size is too low for the lazy-pages transport (test)';
/** Soft-dirty tracking × userfaultfd (absent, present, present but its page transport blocked). */
const FEATURES: NodeFeatures[] = [true, false].flatMap((memDirtyTrack) => [
  { memDirtyTrack, uffdNoncoop: true },
  { memDirtyTrack, uffdNoncoop: true, lazyTransportProblem: PIPE },
  { memDirtyTrack, uffdNoncoop: false },
]);

const DIRTY = /soft-dirty memory tracking \(criu check --feature mem_dirty_track/;
const UFFD = /non-cooperative userfaultfd \(criu check --feature uffd-noncoop|fs\.pipe-max-size is too low/;

const needsDirty = (type: MigrationType) => type === 'iterative' || type === 'iterative+lazy';
const needsUffd = (type: MigrationType) => type === 'lazy' || type === 'iterative+lazy';
const lazyWorks = (f: NodeFeatures) => f.uffdNoncoop && !f.lazyTransportProblem;
const describe = (f: NodeFeatures) => `mem_dirty_track ${f.memDirtyTrack ? 'yes' : 'no'}, `
  + `uffd-noncoop ${f.uffdNoncoop ? 'yes' : 'no'}${f.lazyTransportProblem ? ' (lazy transport blocked)' : ''}`;

/** "A needs ...: falling back to B" → [A, why, B] */
function steps(fallbacks: string[]): [string, string, string][] {
  return fallbacks.map((f) => {
    const m = /^(\S+) needs (.+): falling back to (\S+)$/.exec(f);
    return m ? [m[1] ?? '', m[2] ?? '', m[3] ?? ''] : ['?', f, '?'];
  });
}

/** The type each request must end on, from the features alone. */
function expectedType(type: MigrationType, f: NodeFeatures): MigrationType {
  if (type === 'iterative') return f.memDirtyTrack ? 'iterative' : 'simple';
  if (type === 'lazy') return lazyWorks(f) ? 'lazy' : 'simple';
  if (type === 'iterative+lazy') return f.memDirtyTrack && lazyWorks(f) ? 'iterative+lazy' : f.memDirtyTrack ? 'iterative' : lazyWorks(f) ? 'lazy' : 'simple';
  return 'simple';
}

t.test('all four types are performed', async (t) => {
  t.same([...IMPLEMENTED].sort(), ['iterative', 'iterative+lazy', 'lazy', 'simple']);
});

t.test('simple is performed everywhere', async (t) => {
  t.ok(IMPLEMENTED.has('simple'));
  for (const f of FEATURES) {
    t.same(planMigration('simple', f, false), { ok: true, type: 'simple', fallbacks: [] }, describe(f));
    t.same(planMigration('simple', f, true), { ok: true, type: 'simple', fallbacks: [] }, `strict, ${describe(f)}`);
  }
});

t.test('without strict, every type on every node pair ends on a performable type, through a logged chain', async (t) => {
  for (const type of MIGRATION_TYPES) {
    for (const f of FEATURES) {
      const plan = planMigration(type, f, false);
      const where = `${type}, ${describe(f)}`;
      if (!plan.ok) { t.fail(`${where}: refused without strict: ${plan.reason}`); continue; }
      t.ok(IMPLEMENTED.has(plan.type), `${where}: ends on ${plan.type}`);
      t.equal(plan.type, expectedType(type, f), `${where}: the best type the pair can do`);
      const chain = steps(plan.fallbacks);
      if (plan.type === type) { t.same(chain, [], `${where}: no fallback needed`); continue; }
      t.ok(chain.length > 0, `${where}: the fallback is explained`);
      t.equal(chain[0]?.[0], type, `${where}: the chain starts at the requested type`);
      t.equal(chain[chain.length - 1]?.[2], plan.type, `${where}: and ends at the type performed`);
      for (let i = 1; i < chain.length; i += 1) t.equal(chain[i]?.[0], chain[i - 1]?.[2], `${where}: step ${i} follows on`);
      const first = chain[0]?.[1] ?? '';
      if (needsDirty(type) && !f.memDirtyTrack) t.match(first, DIRTY, `${where}: names soft-dirty tracking`);
      if (needsUffd(type) && !lazyWorks(f)) t.match(first, UFFD, `${where}: names what blocks lazy migration`);
      if (!needsDirty(type) || f.memDirtyTrack) t.notMatch(first, DIRTY, `${where}: does not blame soft-dirty tracking`);
      if (!needsUffd(type) || lazyWorks(f)) t.notMatch(first, UFFD, `${where}: does not blame lazy migration's needs`);
    }
  }
});

t.test('iterative+lazy with every feature is performed as such; without a working lazy transport it is iterative', async (t) => {
  t.same(planMigration('iterative+lazy', { memDirtyTrack: true, uffdNoncoop: true }, false), { ok: true, type: 'iterative+lazy', fallbacks: [] });
  const blocked = planMigration('iterative+lazy', { memDirtyTrack: true, uffdNoncoop: true, lazyTransportProblem: PIPE }, false);
  t.equal(blocked.ok && blocked.type, 'iterative', 'the better half that works');
});

t.test('a fallback never goes to a type that needs the feature just found missing', async (t) => {
  for (const f of FEATURES) {
    const plan = planMigration('iterative+lazy', f, false);
    if (!plan.ok) continue;
    const pointless = steps(plan.fallbacks).filter(([, why, next]) =>
      (DIRTY.test(why) && needsDirty(next as MigrationType)) || (UFFD.test(why) && needsUffd(next as MigrationType)));
    t.same(pointless, [], `${describe(f)}: ${plan.fallbacks.join('; ')}`);
  }
});

t.test('with strict, a type that cannot be performed is refused, naming what is missing', async (t) => {
  for (const type of MIGRATION_TYPES) {
    for (const f of FEATURES) {
      if (expectedType(type, f) === type) continue;
      const where = `${type}, ${describe(f)}`;
      const plan = planMigration(type, f, true);
      if (plan.ok) { t.fail(`${where}: accepted under strict as ${plan.type}`); continue; }
      t.match(plan.reason, new RegExp(`^migration_type=${type.replace('+', '\\+')} is not possible here and migration_type_strict=true: needs `), where);
      const lacksDirty = needsDirty(type) && !f.memDirtyTrack;
      const lacksUffd = needsUffd(type) && !lazyWorks(f);
      if (lacksDirty) t.match(plan.reason, DIRTY, `${where}: names the kernel feature (CONFIG_MEM_SOFT_DIRTY)`);
      else t.notMatch(plan.reason, DIRTY, `${where}: soft-dirty tracking is not what is missing`);
      if (lacksUffd) t.match(plan.reason, UFFD, `${where}: names what blocks lazy migration`);
      else t.notMatch(plan.reason, UFFD, `${where}: lazy migration's needs are not what is missing`);
      if (lacksUffd && f.uffdNoncoop) t.match(plan.reason, PIPE, `${where}: names the blocked transport and its fix`);
    }
  }
  const both = planMigration('iterative+lazy', { memDirtyTrack: false, uffdNoncoop: false }, true);
  t.match(both.ok ? '' : both.reason, /CONFIG_MEM_SOFT_DIRTY.* and non-cooperative userfaultfd/, 'both missing features are named');
});
