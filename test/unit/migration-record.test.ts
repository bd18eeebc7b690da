/**
 * The migration record both nodes consult in state_dir: when the next start resumes a checkpoint, and the
 * store itself on a real directory (exclusive claims, stale leftovers, complete images, corrupt records).
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore, newMigrationId, pendingCheckpoint, type MigrationPhase, type MigrationRecord } from '../../src/migrate/record.js';
import { StateStore } from '../../src/storage/state-store.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

function record(change: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    id: '20250601115900-0a1b2c3d', name: 'web1', source: 'node1', target: 'node2', requestedType: 'iterative', type: 'simple',
    phase: 'dumped', dumpStartedAt: NOW - 60_000, dumpedAt: NOW - 59_000, updatedAt: new Date(NOW - 59_000).toISOString(),
    ...change,
  };
}

function stateDir(t: Tap): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-record-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
type Tap = { teardown(fn: () => void): void };

function storeIn(dir: string): { shared: StateStore; records: RecordStore } {
  const shared = new StateStore(dir, 'web1');
  shared.ensure();
  return { shared, records: new RecordStore(shared) };
}

t.test('pendingCheckpoint: only a complete, unrestored checkpoint is resumed', async (t) => {
  t.same(pendingCheckpoint(undefined, 600, NOW), { resume: false, why: 'no migration record' });
  for (const phase of ['dumped', 'restoring'] as MigrationPhase[]) {
    t.same(pendingCheckpoint(record({ phase }), 600, NOW), { resume: true }, `${phase} is resumed`);
  }
  for (const phase of ['dumping', 'restored', 'aborted'] as MigrationPhase[]) {
    const p = pendingCheckpoint(record({ phase }), 600, NOW);
    t.equal(p.resume, false, `${phase} is not resumed`);
    t.match(p.resume ? '' : p.why, `last migration is ${phase}`);
  }
});

t.test('pendingCheckpoint: a checkpoint older than checkpoint_max_age is stale', async (t) => {
  const dumpedAt = NOW - 600_000;
  t.same(pendingCheckpoint(record({ dumpedAt }), 600, NOW), { resume: true }, 'exactly checkpoint_max_age old is not older');
  const stale = pendingCheckpoint(record({ dumpedAt: dumpedAt - 1 }), 600, NOW);
  t.equal(stale.resume, false, '1 ms older is stale');
  t.match(stale.resume ? '' : stale.why, /^checkpoint 20250601115900-0a1b2c3d is 600 s old \(checkpoint_max_age=600\)$/);
  t.same(pendingCheckpoint(record({ dumpedAt: NOW - 3_600_000 }), 7200, NOW), { resume: true }, 'an hour old with a two-hour limit');
});

t.test('pendingCheckpoint: the age counts from the end of the dump when known', async (t) => {
  const slowDump = record({ dumpStartedAt: NOW - 700_000, dumpedAt: NOW - 100_000 });
  t.same(pendingCheckpoint(slowDump, 600, NOW), { resume: true }, 'dumped 100 s ago, although started 700 s ago');
  const noEnd = record({ phase: 'restoring', dumpStartedAt: NOW - 700_000, dumpedAt: undefined });
  t.equal(pendingCheckpoint(noEnd, 600, NOW).resume, false, 'without dumpedAt, the dump start counts');
});

t.test('pendingCheckpoint: checkpoint_max_age=0 never resumes, however fresh', async (t) => {
  const p = pendingCheckpoint(record({ dumpedAt: NOW }), 0, NOW);
  t.same(p, { resume: false, why: 'checkpoint_max_age=0 never resumes checkpoints' });
});

t.test('migration ids sort by time and are safe as file names', async (t) => {
  const day = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const before = day();
  const a = newMigrationId();
  const b = newMigrationId();
  const after = day();
  t.match(a, /^\d{14}-[0-9a-f]{8}$/);
  t.not(a, b, 'two migrations in the same second still differ');
  t.ok([before, after].includes(a.slice(0, 8)), 'starts with the UTC date and time, so ids sort chronologically');
});

t.test('the store keeps its files private (0700 directories, 0600 record)', async (t) => {
  const dir = stateDir(t);
  const { shared, records } = storeIn(dir);
  const mode = (path: string) => statSync(path).mode & 0o777;
  t.equal(mode(shared.root), 0o700);
  t.equal(mode(shared.imagesRoot()), 0o700);
  records.write(record());
  t.equal(mode(shared.recordPath()), 0o600);
  t.ok(records.claim('m1', 'node2'));
  t.equal(mode(shared.claimPath('m1')) & 0o077, 0, 'a claim is not readable by group or others');
});

t.test('write and read round-trip; update changes only what it is given', async (t) => {
  const dir = stateDir(t);
  const { records } = storeIn(dir);
  t.equal(records.read(), undefined, 'no record yet');
  const before = Date.now();
  const written = records.write(record({ dumpStats: { freezingTimeUs: 442, frozenTimeUs: 67380, memdumpTimeUs: 41987,
    memwriteTimeUs: 10809, pagesScanned: 5885, pagesWritten: 5818, pagesSkippedParent: 0, pagesLazy: 0 } }));
  t.ok(Date.parse(written.updatedAt) >= before - 1, 'updatedAt is set to now');
  t.same(records.read(), written);
  const updated = records.update(written, { phase: 'restoring', restoreStartedAt: NOW });
  t.same(records.read(), updated);
  t.equal(updated.phase, 'restoring');
  t.equal(updated.restoreStartedAt, NOW);
  t.equal(updated.dumpStats?.pagesWritten, 5818, 'other fields kept');
  t.equal(updated.source, 'node1');
});

t.test('a corrupt record is an error that names the file, not a silent "no record"', async (t) => {
  const dir = stateDir(t);
  const { shared, records } = storeIn(dir);
  writeFileSync(shared.recordPath(), '{"id": "20250601", "phase": "dum');
  const escaped = shared.recordPath().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  t.throws(() => records.read(), { message: new RegExp(`^${escaped} is not valid JSON \\(corrupt record\\): remove it after checking`) });
});

t.test('a claim is exclusive: the second claim, from any node, is refused', async (t) => {
  const dir = stateDir(t);
  const node2 = storeIn(dir).records;
  const node3 = new RecordStore(new StateStore(dir, 'web1'));
  t.equal(node2.claimOwner('m1'), undefined, 'nobody owns an unclaimed checkpoint');
  t.equal(node2.claim('m1', 'node2'), true);
  t.equal(node3.claim('m1', 'node3'), false, 'another node cannot claim it');
  t.equal(node2.claim('m1', 'node2'), false, 'nor can the same node twice');
  t.equal(node3.claimOwner('m1'), 'node2');
  t.equal(node3.claim('m2', 'node3'), true, 'claims of other migrations are independent');
  node2.releaseClaim('m1');
  t.equal(node3.claimOwner('m1'), undefined);
  t.equal(node3.claim('m1', 'node3'), true, 'a released claim can be taken');
  t.equal(node2.claimOwner('m1'), 'node3');
  node2.releaseClaim('never-claimed');
  t.pass('releasing a claim that does not exist is harmless');
});

t.test('images are complete only with an inventory.img file', async (t) => {
  const dir = stateDir(t);
  const { shared, records } = storeIn(dir);
  t.equal(records.imagesComplete('m1'), false, 'no images directory');
  mkdirSync(shared.imagesDir('m1'), { recursive: true });
  writeFileSync(join(shared.imagesDir('m1'), 'pages-1.img'), 'x');
  t.equal(records.imagesComplete('m1'), false, 'images without inventory.img (the dump did not finish)');
  writeFileSync(join(shared.imagesDir('m1'), 'inventory.img'), 'x');
  t.equal(records.imagesComplete('m1'), true);
  mkdirSync(join(shared.imagesDir('m2'), 'inventory.img'), { recursive: true });
  t.equal(records.imagesComplete('m2'), false, 'a directory called inventory.img does not count');
  records.removeImages('m1');
  t.equal(existsSync(shared.imagesDir('m1')), false, 'removeImages removes the set');
  t.equal(records.imagesComplete('m1'), false);
});

t.test('removeStale removes other migrations\' images and claims, keeping the given one and the record', async (t) => {
  const dir = stateDir(t);
  const { shared, records } = storeIn(dir);
  records.write(record());
  for (const id of ['old1', 'old2', 'keep']) {
    mkdirSync(shared.imagesDir(id), { recursive: true });
    writeFileSync(join(shared.imagesDir(id), 'inventory.img'), 'x');
  }
  records.claim('old1', 'node1');
  records.claim('keep', 'node2');
  const removed = records.removeStale('keep');
  t.same(removed.sort(), ['claim-old1', 'images/old1', 'images/old2']);
  t.same(readdirSync(shared.imagesRoot()), ['keep']);
  t.equal(records.claimOwner('keep'), 'node2');
  t.equal(records.claimOwner('old1'), undefined);
  t.ok(records.read(), 'the migration record stays');

  const all = records.removeStale();
  t.same(all.sort(), ['claim-keep', 'images/keep'], 'without an id to keep, everything goes');
  t.same(readdirSync(shared.imagesRoot()), []);
  t.same(records.removeStale(), [], 'nothing left: nothing removed');
});

t.test('removeStale on a state_dir that was never used removes nothing', async (t) => {
  const dir = stateDir(t);
  const records = new RecordStore(new StateStore(dir, 'never-started'));
  t.same(records.removeStale('x'), []);
});

t.test('ageMs counts from the end of the dump, else from its start', async (t) => {
  const { records } = storeIn(stateDir(t));
  t.equal(records.ageMs(record({ dumpStartedAt: NOW - 10_000, dumpedAt: NOW - 4_000 }), NOW), 4_000);
  t.equal(records.ageMs(record({ dumpStartedAt: NOW - 10_000, dumpedAt: undefined }), NOW), 10_000);
});
