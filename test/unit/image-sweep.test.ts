/**
 * Checkpoint images at rest (#14 finding 9): which image sets a sweep removes from a real STATE_DIR/NAME and
 * which it keeps, for every phase a record can be in; set-aside checkpoints lose their images at once; the
 * helper's sweep of its whole directory.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imagesExpired, retentionOf, sweepDirectory, sweepImages } from '../../src/migrate/image-sweep.js';
import { RecordStore, type MigrationRecord } from '../../src/migrate/record.js';
import { StateStore } from '../../src/storage/state-store.js';
import { writeJsonAtomic } from '../../src/util/files.js';

const root = mkdtempSync(join(tmpdir(), 'ferry-sweep-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const HOUR = 3600_000;

let serial = 0;
function record(change: Partial<MigrationRecord> = {}): MigrationRecord {
  serial += 1;
  const at = Date.now();
  return {
    id: `20261202120000-${String(serial).padStart(8, '0')}`, name: 'web1', source: 'node1', target: 'node2', requestedType: 'simple', type: 'simple',
    phase: 'dumped', dumpStartedAt: at, dumpedAt: at, updatedAt: new Date(at).toISOString(), retention: { maxAgeS: 600, keepImages: false }, ...change,
  };
}

function withImages(records: RecordStore, r: MigrationRecord): string {
  mkdirSync(records.store.imagesDir(r.id), { recursive: true });
  writeFileSync(join(records.store.imagesDir(r.id), 'pages-1.img'), 'memory');
  return records.store.imagesDir(r.id);
}

t.test('what may go, and why: set aside, restored, untouched past checkpoint_max_age; what stays', async (t) => {
  const now = Date.now();
  const old = now - 2 * HOUR;
  t.equal(imagesExpired(record({ phase: 'aborted' }), now), 'set aside');
  t.equal(imagesExpired(record({ phase: 'restored' }), now), 'restored');
  t.equal(imagesExpired(record({ phase: 'dumped' }), now), undefined, 'a fresh checkpoint a start may resume');
  t.match(imagesExpired(record({ phase: 'dumped', dumpStartedAt: old, dumpedAt: old, updatedAt: new Date(old).toISOString() }), now), /untouched for 7200 s, past 900 s/);
  t.equal(imagesExpired(record({ phase: 'restored', lazy: { address: '10.0.0.1', port: 1 } }), now), undefined, 'a lazy restore still reading its images');
  t.equal(imagesExpired(record({ phase: 'restored', lazy: { address: '10.0.0.1', port: 1 }, lazyDoneAt: now }), now), 'restored', 'every page in');
  t.equal(imagesExpired(record({ phase: 'aborted', retention: { maxAgeS: 600, keepImages: true } }), now), undefined, 'keep_images keeps them');
  // checkpoint_max_age=0 never resumes, but a migration under way still restores its images
  t.equal(imagesExpired(record({ phase: 'dumped', retention: { maxAgeS: 0, keepImages: false } }), now), undefined, 'max age 0: not cut under way');
  const long = record({ phase: 'dumped', dumpStartedAt: old, dumpedAt: old, updatedAt: new Date(old).toISOString(), retention: { maxAgeS: 86_400, keepImages: false } });
  t.equal(imagesExpired(long, now), undefined, 'a day\'s checkpoint_max_age keeps a two-hour-old checkpoint');
  const arrived = record({ phase: 'dumped', dumpStartedAt: old, dumpedAt: old, updatedAt: new Date(old).toISOString() });
  t.equal(imagesExpired(arrived, now, now - 1000), undefined, 'a copy that has just arrived after a long transfer is not expired by its dump\'s age');
  t.same(retentionOf({ checkpoint_max_age: 30, keep_images: true }), { maxAgeS: 30, keepImages: true });
});

t.test('a sweep of a real state directory removes exactly the image sets that can no longer serve', async (t) => {
  const records = new RecordStore(new StateStore(join(root, 'a'), 'web1'));
  records.store.ensure();
  const old = Date.now() - 2 * HOUR;
  // the node's own record: restored, images left behind (retiring them failed)
  const own = records.write(record({ phase: 'restored' }));
  const ownDir = withImages(records, own);
  // a copy received from a peer, dumped long ago and untouched since
  const stale = record({ dumpStartedAt: old, dumpedAt: old, updatedAt: new Date(old).toISOString() });
  const staleDir = withImages(records, stale);
  writeJsonAtomic(records.store.travellingRecordPath(stale.id), stale);
  utimesSync(records.store.travellingRecordPath(stale.id), old / 1000, old / 1000);
  // a copy received just now: kept
  const fresh = record();
  const freshDir = withImages(records, fresh);
  writeJsonAtomic(records.store.travellingRecordPath(fresh.id), fresh);
  // images no record names, one old, one new
  const strayOld = join(records.store.imagesRoot(), '20261201000000-deadbeef');
  mkdirSync(strayOld);
  utimesSync(strayOld, old / 1000, old / 1000);
  const strayNew = join(records.store.imagesRoot(), '20261202000000-cafecafe');
  mkdirSync(strayNew);
  // a transfer the helper is receiving
  const partial = join(records.store.imagesRoot(), '.incoming-x');
  mkdirSync(partial);
  utimesSync(partial, old / 1000, old / 1000);

  const removed = sweepImages(records);
  t.equal(removed.length, 3, removed.join('; '));
  t.notOk(existsSync(ownDir), 'the restored checkpoint\'s images');
  t.notOk(existsSync(staleDir), 'the stale received copy');
  t.notOk(existsSync(strayOld), 'the old unexplained directory');
  t.ok(existsSync(freshDir), 'the fresh copy stays');
  t.ok(existsSync(strayNew), 'a new unexplained directory stays (it may be a migration\'s, being written)');
  t.ok(existsSync(partial), 'a transfer in progress is the helper\'s to drop');
  t.ok(existsSync(records.store.recordPath()), 'the record itself stays: it says what happened');
  t.same(sweepImages(records), [], 'a second sweep finds nothing');
});

t.test('set aside: the record says why, the images are gone at once (kept with keep_images)', async (t) => {
  const records = new RecordStore(new StateStore(join(root, 'b'), 'web1'));
  records.store.ensure();
  const r = records.write(record());
  const dir = withImages(records, r);
  const aside = records.setAside(r, 'set aside by start', false);
  t.equal(aside.phase, 'aborted');
  t.equal(records.read()?.lastError, 'set aside by start');
  t.notOk(existsSync(dir), 'images removed');
  const kept = records.write(record());
  const keptDir = withImages(records, kept);
  records.setAside(kept, 'set aside by start', true);
  t.ok(existsSync(keptDir), 'keep_images: kept for the admin');
});

t.test('the helper\'s sweep covers every resource of its directory and ignores what is not a resource', async (t) => {
  const dir = join(root, 'helper');
  const one = new RecordStore(new StateStore(dir, 'web1'));
  const two = new RecordStore(new StateStore(dir, 'web2'));
  for (const r of [one, two]) r.store.ensure();
  const a = one.write(record({ phase: 'aborted' }));
  const aDir = withImages(one, a);
  const b = two.write(record());
  const bDir = withImages(two, b);
  writeFileSync(join(dir, 'authkey.not-a-resource'), 'x');
  const removed = sweepDirectory(dir);
  t.same(removed.map((r) => r.replace(/ \(.*/, '')), [`web1/images/${a.id}`]);
  t.notOk(existsSync(aDir));
  t.ok(existsSync(bDir));
});
