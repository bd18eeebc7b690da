/**
 * storage=none on the receiving node: which of the image sets in images/ are checkpoints it may resume (complete,
 * with the record that travelled with them, as dumped), newest first, and when one becomes this node's migration
 * record (newer than the record, wanted by the caller, claimed by no other node).
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adoptReceived, heldCheckpoint, receivedCheckpoints, RecordStore, type MigrationRecord } from '../../src/migrate/record.js';
import { StateStore, TRAVELLING_RECORD } from '../../src/storage/state-store.js';
import { writeJsonAtomic } from '../../src/util/files.js';

const T0 = Date.parse('2025-06-01T12:00:00Z');

function idAt(ms: number, suffix: string): string {
  return `${new Date(ms).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${suffix}`;
}

function record(ms: number, suffix: string, change: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    id: idAt(ms, suffix), name: 'web1', source: 'nodeA', target: 'nodeB', requestedType: 'simple', type: 'simple',
    phase: 'dumped', dumpStartedAt: ms, dumpedAt: ms + 400, updatedAt: new Date(ms + 400).toISOString(),
    copies: ['nodeA', 'nodeB'], ...change,
  };
}

function stateDir(t: { teardown(fn: () => void): void }): { store: StateStore; records: RecordStore } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-adopt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(dir, 'web1');
  store.ensure();
  return { store, records: new RecordStore(store) };
}

/** Writes images/ENTRY with pages, optionally inventory.img and a travelling record (or raw text for one). */
function imageSet(store: StateStore, entry: string, o: { complete?: boolean; travelled?: MigrationRecord | string | undefined }): void {
  const dir = join(store.imagesRoot(), entry);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pages-1.img'), 'pages');
  if (o.complete ?? true) writeFileSync(join(dir, 'inventory.img'), 'inv');
  if (typeof o.travelled === 'string') writeFileSync(join(dir, TRAVELLING_RECORD), o.travelled);
  else if (o.travelled) writeJsonAtomic(join(dir, TRAVELLING_RECORD), o.travelled);
}

function received(store: StateStore, r: MigrationRecord): MigrationRecord {
  imageSet(store, r.id, { travelled: r });
  return r;
}

t.test('receivedCheckpoints: complete sets with their dumped record, newest dump first', async (t) => {
  const { store, records } = stateDir(t);
  t.same(receivedCheckpoints(records), [], 'none yet');
  const a = received(store, record(T0, 'aaaaaaaa'));
  const c = received(store, record(T0 + 20_000, 'cccccccc'));
  const b = received(store, record(T0 + 10_000, 'bbbbbbbb'));
  // the order is the dump's end, not the id or the directory's name
  const late = received(store, record(T0 - 50_000, '00000000', { dumpedAt: T0 + 30_000 }));
  t.same(receivedCheckpoints(records).map((r) => r.id), [late.id, c.id, b.id, a.id]);
  t.same(receivedCheckpoints(records)[1], c, 'the travelling record as it came');
});

t.test('receivedCheckpoints: what is not a complete received checkpoint is ignored, without failing', async (t) => {
  const { store, records } = stateDir(t);
  const good = received(store, record(T0, 'aaaaaaaa'));
  const incomplete = record(T0 + 1000, 'bbbbbbbb');
  imageSet(store, incomplete.id, { complete: false, travelled: incomplete });
  const incoming = record(T0 + 2000, 'cccccccc');
  imageSet(store, `.incoming-${incoming.id}`, { travelled: { ...incoming, id: `.incoming-${incoming.id}` } });
  imageSet(store, `.parts-${incoming.id}`, { travelled: { ...incoming, id: `.parts-${incoming.id}` } });
  const mismatched = record(T0 + 3000, 'dddddddd');
  imageSet(store, idAt(T0 + 3000, 'eeeeeeee'), { travelled: mismatched });
  imageSet(store, idAt(T0 + 4000, 'ffffffff'), { travelled: '{"id": "' });
  imageSet(store, idAt(T0 + 5000, '11111111'), { travelled: 'null' });
  imageSet(store, idAt(T0 + 6000, '22222222'), {});
  for (const [i, phase] of (['dumping', 'restoring', 'restored', 'aborted'] as const).entries()) {
    const r = record(T0 + 7000, `3333333${i}`, { phase });
    imageSet(store, r.id, { travelled: r });
  }
  const dirInventory = record(T0 + 8000, '44444444');
  imageSet(store, dirInventory.id, { complete: false, travelled: dirInventory });
  mkdirSync(join(store.imagesDir(dirInventory.id), 'inventory.img'));
  writeFileSync(join(store.imagesRoot(), idAt(T0 + 9000, '55555555')), 'a file, not a directory');
  t.same(receivedCheckpoints(records).map((r) => r.id), [good.id], 'only the one complete, matching, dumped set');
});

t.test('receivedCheckpoints: no images directory at all', async (t) => {
  const { store, records } = stateDir(t);
  rmSync(store.root, { recursive: true });
  t.same(receivedCheckpoints(records), []);
});

t.test('adoptReceived: the newest accepted checkpoint becomes migration.json', async (t) => {
  const { store, records } = stateDir(t);
  received(store, record(T0, 'aaaaaaaa'));
  const newest = received(store, record(T0 + 10_000, 'bbbbbbbb'));
  const adopted = adoptReceived(records, () => true);
  t.equal(adopted?.id, newest.id);
  const onDisk = JSON.parse(readFileSync(store.recordPath(), 'utf8')) as MigrationRecord;
  t.same(onDisk, adopted, 'what it returns is what it wrote');
  t.same({ ...onDisk, updatedAt: newest.updatedAt }, newest, 'the travelling record, restamped');
  t.not(onDisk.updatedAt, newest.updatedAt, 'updatedAt is the adoption\'s');
  t.same(onDisk.copies, ['nodeA', 'nodeB'], 'the copies travel with it (claims span both nodes)');
  t.equal(adoptReceived(records, () => true), undefined, 'adopting again changes nothing: the record already is that migration');
});

t.test('adoptReceived: only what `accept` takes', async (t) => {
  const { store, records } = stateDir(t);
  const forB = received(store, record(T0, 'aaaaaaaa', { target: 'nodeB' }));
  received(store, record(T0 + 10_000, 'bbbbbbbb', { target: 'nodeC' }));
  const seen: string[] = [];
  const adopted = adoptReceived(records, (r) => { seen.push(r.id); return r.target === 'nodeB'; });
  t.equal(adopted?.id, forB.id, 'the older one meant for this node, not the newer one meant for another');
  t.same(seen, [idAt(T0 + 10_000, 'bbbbbbbb'), forB.id], 'asked newest first');

  const none = stateDir(t);
  received(none.store, record(T0, 'cccccccc'));
  t.equal(adoptReceived(none.records, () => false), undefined, 'nothing accepted: nothing adopted');
  t.notOk(existsSync(none.store.recordPath()), 'and nothing written');
});

t.test('adoptReceived: a checkpoint claimed by another node is never adopted', async (t) => {
  const { store, records } = stateDir(t);
  const older = received(store, record(T0, 'aaaaaaaa'));
  const newer = received(store, record(T0 + 10_000, 'bbbbbbbb'));
  t.ok(records.claim(newer.id, 'nodeA'), 'nodeA restores the newer one from its own copy');
  t.equal(adoptReceived(records, () => true)?.id, older.id, 'the next unclaimed one, still newer than nothing');
  const { store: s2, records: r2 } = stateDir(t);
  received(s2, older);
  t.ok(r2.claim(older.id, 'nodeA'));
  t.equal(adoptReceived(r2, () => true), undefined, 'all claimed');
  t.notOk(existsSync(s2.recordPath()));
});

t.test('adoptReceived: never replaces the record of the same or a newer migration', async (t) => {
  const { store, records } = stateDir(t);
  const checkpoint = received(store, record(T0, 'aaaaaaaa'));
  const newerHere = records.write(record(T0 + 60_000, 'ffffffff', { phase: 'aborted', source: 'nodeB', target: 'nodeA' }));
  t.equal(adoptReceived(records, () => true), undefined, 'a newer migration here, even an aborted one, wins');
  t.same(records.read(), newerHere, 'record untouched');

  records.write(record(T0, 'eeeeeeee', { phase: 'restored' }));
  t.equal(adoptReceived(records, () => true), undefined, 'a migration that started at the same moment is not older');

  records.write({ ...checkpoint, phase: 'restored', restoredOn: 'nodeB' });
  t.equal(adoptReceived(records, () => true), undefined, 'the same migration, already restored here, is not adopted again');
  t.equal(records.read()?.phase, 'restored', 'and stays restored');

  const olderHere = records.write(record(T0 - 60_000, '99999999', { phase: 'restored', restoredOn: 'nodeB' }));
  const adopted = adoptReceived(records, () => true);
  t.equal(adopted?.id, checkpoint.id, 'an older record here is replaced');
  t.not(records.read()?.id, olderHere.id);
  t.equal(records.read()?.phase, 'dumped');
});

t.test('adoptReceived: incomplete or half-received sets are never adopted', async (t) => {
  const { store, records } = stateDir(t);
  const r = record(T0, 'aaaaaaaa');
  imageSet(store, r.id, { complete: false, travelled: r });
  imageSet(store, `.incoming-${idAt(T0 + 1000, 'bbbbbbbb')}`, { travelled: record(T0 + 1000, 'bbbbbbbb') });
  t.equal(adoptReceived(records, () => true), undefined);
  t.notOk(existsSync(store.recordPath()));
  writeFileSync(join(store.imagesDir(r.id), 'inventory.img'), 'inv');
  t.equal(adoptReceived(records, () => true)?.id, r.id, 'once complete, it is');
});

t.test('heldCheckpoint: this node\'s own pending checkpoint, unless a node has claimed it (it was restored there)', async (t) => {
  const { store, records } = stateDir(t);
  const own = record(T0, 'dddddddd');
  imageSet(store, own.id, {});
  records.write(own);
  t.equal(heldCheckpoint(records)?.id, own.id, 'held while nobody has claimed it');
  t.ok(records.claim(own.id, 'nodeB'), 'nodeB claims it to restore its own copy');
  t.equal(heldCheckpoint(records), undefined, 'then it is no longer offered for resuming');
  records.releaseClaim(own.id);
  t.equal(heldCheckpoint(records)?.id, own.id, 'released (nodeB\'s restore failed): held again');
});
