/**
 * Whether a node can receive a container by its migration_type (validate-all at OCF_CHECK_LEVEL=10), decided
 * purely from the node's facts: the code is 5 when this node lacks something, 6 when no node could do what is
 * configured, and what only degrades a migration is a warning that names the fallback.
 */
import t from 'tap';
import { receiveVerdict, type ReceiveFacts } from '../../src/migrate/receive-plan.js';
import { planMigration } from '../../src/migrate/plan.js';

const GIB = 1024 ** 3;
const base: ReceiveFacts = {
  type: 'simple', strict: false, storage: 'shared', features: { memDirtyTrack: true, uffdNoncoop: true },
  criuVersion: '4.2.1', kernelRelease: '6.18.44-fc-v1045', memAvailableBytes: 8 * GIB, lastMemoryBytes: undefined,
};
const verdict = (f: Partial<ReceiveFacts>) => receiveVerdict({ ...base, ...f });
const NO_SOFT_DIRTY = { memDirtyTrack: false, uffdNoncoop: true };

t.test('a node with every feature receives every type it can perform, silently', async (t) => {
  for (const type of ['simple', 'iterative', 'lazy'] as const) t.same(verdict({ type, strict: true }), { error: undefined, warnings: [] }, type);
});

t.test('a missing kernel feature: a warning naming the fallback, an error (5) only with strict', async (t) => {
  const loose = verdict({ type: 'iterative', features: NO_SOFT_DIRTY });
  t.equal(loose.error, undefined);
  t.match(loose.warnings, [/^migration_type=iterative on this node: iterative needs soft-dirty .*falling back to simple$/]);
  const strict = verdict({ type: 'iterative', strict: true, features: NO_SOFT_DIRTY });
  t.equal(strict.error?.kind, 'not-installed');
  t.match(strict.error?.reason, /^this node cannot receive iterative migrations: migration_type=iterative is not possible on this node and migration_type_strict=true: needs soft-dirty/);
  const noUffd = verdict({ type: 'lazy', strict: true, features: { memDirtyTrack: true, uffdNoncoop: false } });
  t.match(noUffd.error, { kind: 'not-installed', reason: /non-cooperative userfaultfd/ });
});

t.test('the pipe limit of lazy migration counts as a missing feature, with its fix', async (t) => {
  const pipe = 'pipes of 4194304 bytes for CRIU\'s page server (... run sysctl -w fs.pipe-max-size=4194304 on both nodes)';
  const strict = verdict({ type: 'lazy', strict: true, features: { memDirtyTrack: false, uffdNoncoop: true, lazyTransportProblem: pipe } });
  t.match(strict.error, { kind: 'not-installed', reason: /sysctl -w fs\.pipe-max-size=4194304/ });
  const loose = verdict({ type: 'lazy', features: { memDirtyTrack: false, uffdNoncoop: true, lazyTransportProblem: pipe } });
  t.match(loose, { error: undefined, warnings: [/falling back to simple/] });
});

t.test('what no node can do strictly is the configuration\'s fault (6)', async (t) => {
  const lazyDrbd = verdict({ type: 'lazy', strict: true, storage: 'drbd' });
  t.match(lazyDrbd.error, { kind: 'misconfigured', reason: /migration_type=lazy with storage=drbd cannot be performed/ });
  const loose = verdict({ type: 'lazy', storage: 'drbd' });
  t.match(loose, { error: undefined, warnings: [/storage=drbd: lazy needs images both nodes can read.*fall back to simple/] });
  // iterative+lazy: 6 where plan.ts performs it nowhere, otherwise a node's matter
  const anywhere = planMigration('iterative+lazy', { memDirtyTrack: true, uffdNoncoop: true }, true);
  const il = verdict({ type: 'iterative+lazy', strict: true });
  if (anywhere.ok) t.equal(il.error, undefined, 'performed where every feature is there');
  else t.match(il.error, { kind: 'misconfigured', reason: anywhere.reason });
  t.equal(verdict({ type: 'iterative+lazy', strict: true, features: NO_SOFT_DIRTY }).error?.kind, anywhere.ok ? 'not-installed' : 'misconfigured');
});

t.test('CRIU too old for this kernel: 5, whatever the type', async (t) => {
  const old = verdict({ criuVersion: '3.17' });
  t.match(old.error, { kind: 'not-installed', reason: /^CRIU 3\.17 cannot checkpoint TCP sockets on kernel 6\.18\.44-fc-v1045: CRIU 4\.2 or later is needed/ });
  t.equal(verdict({ criuVersion: '3.17', kernelRelease: '6.1.0-56-amd64' }).error, undefined, 'fine on 6.1');
  t.equal(verdict({ criuVersion: undefined }).error?.kind, 'not-installed', 'an unknown version is not assumed new enough');
});

t.test('memory: a warning when less is available than the last migration moved, nothing when unknown', async (t) => {
  t.match(verdict({ memAvailableBytes: GIB, lastMemoryBytes: 2 * GIB }).warnings, [/1024 MiB of memory available, the container's last migration moved 2048 MiB/]);
  t.same(verdict({ memAvailableBytes: 2 * GIB, lastMemoryBytes: GIB }).warnings, []);
  t.same(verdict({ memAvailableBytes: 0, lastMemoryBytes: undefined }).warnings, [], 'never migrated: nothing to compare with');
});
