/**
 * The helper's side of storage=none's cross-node claims, on a real state directory: a checkpoint is claimed for
 * exactly one node, never once it is restored, aborted or superseded; a claim on nothing stands in for a copy
 * that might still arrive; release and restored act only for the node that asks; held tells what this node
 * could resume.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointKeeper } from '../../src/migrate/checkpoint-keeper.js';

const checkpointOp = checkpointKeeper.checkpoint;
const heldOp = checkpointKeeper.held;
import type { Answer, CheckpointOp } from '../../src/helper/protocol.js';
import { adoptReceived, heldCheckpoint, newMigrationId, RecordStore, type MigrationRecord } from '../../src/migrate/record.js';
import { StateStore } from '../../src/storage/state-store.js';
import { writeJsonAtomic } from '../../src/util/files.js';
import { writeLocalRecord, writeRestoreIntent } from '../../src/runtime/local-record.js';

const RESOURCE = 'web1';
const T0 = Date.parse('2025-06-01T12:00:00Z');

/** A migration id as newMigrationId makes it, for a given time. */
function idAt(ms: number, suffix = '0a1b2c3d'): string {
  return `${new Date(ms).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${suffix}`;
}

function record(id: string, dumpStartedAt: number, change: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    id, name: RESOURCE, source: 'nodeA', target: 'nodeB', requestedType: 'simple', type: 'simple', phase: 'dumped',
    dumpStartedAt, dumpedAt: dumpStartedAt + 500, updatedAt: new Date(dumpStartedAt + 500).toISOString(), ...change,
  };
}

interface Dir { dir: string; store: StateStore; records: RecordStore }

function stateDir(t: { teardown(fn: () => void): void }, ensure = true): Dir {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ops-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(dir, RESOURCE);
  if (ensure) store.ensure();
  return { dir, store, records: new RecordStore(store) };
}

/** CRIU's images of `id` in this node's store; complete when inventory.img is there. */
function images(d: Dir, id: string, complete = true): void {
  mkdirSync(d.store.imagesDir(id), { recursive: true });
  writeFileSync(join(d.store.imagesDir(id), 'pages-1.img'), 'pages');
  if (complete) writeFileSync(join(d.store.imagesDir(id), 'inventory.img'), 'inv');
}

/** A checkpoint received from a peer: its images with the record that travelled with them. */
function received(d: Dir, r: MigrationRecord, complete = true): void {
  images(d, r.id, complete);
  writeJsonAtomic(d.store.travellingRecordPath(r.id), { ...r, copies: [r.source, r.target] });
}

/** `here`: the node whose helper answers (the one that holds `d`). */
function op(d: Dir, o: CheckpointOp, id: string, node: string, here = 'nodeHere'): Answer {
  return checkpointOp(d.dir, { op: o, resource: RESOURCE, id, node }, here);
}

const ID = idAt(T0);

t.test('claim: a dumped checkpoint is claimed once, for one node; asking again for the same node is fine', async (t) => {
  const d = stateDir(t);
  d.records.write(record(ID, T0 + 200));
  images(d, ID);
  t.same(op(d, 'claim', ID, 'nodeB'), { ok: true, done: `claimed ${ID} for nodeB` });
  t.equal(d.records.claimOwner(ID), 'nodeB', 'the claim is on disk, owned by the asker');
  t.same(op(d, 'claim', ID, 'nodeB'), { ok: true, done: `claimed ${ID} for nodeB` }, 'idempotent for the same node (a retried request)');
  t.same(op(d, 'claim', ID, 'nodeC'), { ok: false, error: `checkpoint ${ID} is claimed by nodeB` }, 'refused for another node');
  t.equal(d.records.claimOwner(ID), 'nodeB', 'the claim stays nodeB\'s');
  t.equal(d.records.read()?.phase, 'dumped', 'a claim does not touch the record');
  t.ok(d.records.imagesComplete(ID), 'nor the images');
});

t.test('claim: a claim this node holds itself (it is restoring the checkpoint) is not given away', async (t) => {
  const d = stateDir(t);
  d.records.write(record(ID, T0 + 200, { phase: 'restoring', restoreStartedAt: T0 + 5000 }));
  images(d, ID);
  t.ok(d.records.claim(ID, 'nodeB'), 'nodeB claimed it locally');
  t.same(op(d, 'claim', ID, 'nodeA'), { ok: false, error: `checkpoint ${ID} is claimed by nodeB` });
});

t.test('claim: this node\'s own restore of it, cut off (a crash, a killed agent), is given up to the asker; one under way, or a container running here from it, is not', async (t) => {
  const run = mkdtempSync(join(tmpdir(), 'ferry-ops-run-'));
  const previous = process.env.FERRY_RUN_DIR;
  process.env.FERRY_RUN_DIR = run;
  t.teardown(() => {
    if (previous === undefined) delete process.env.FERRY_RUN_DIR; else process.env.FERRY_RUN_DIR = previous;
    rmSync(run, { recursive: true, force: true });
  });
  const restoring = (d: Dir) => {
    d.records.write(record(ID, T0 + 200, { phase: 'restoring', restoreStartedAt: T0 + 5000 }));
    images(d, ID);
    d.records.claim(ID, 'nodeB');
  };
  // nothing of it runs on nodeB: no node-local record, no restore intent (a reboot emptied /run)
  const cut = stateDir(t);
  restoring(cut);
  const given = op(cut, 'claim', ID, 'nodeA', 'nodeB');
  t.match(given, { ok: true, done: /claimed .* for nodeA \(the restore interrupted on nodeB is given up\)/ });
  t.equal(cut.records.claimOwner(ID), 'nodeA', 'claimed for the asker');
  t.match(cut.records.read(), { phase: 'dumped', lastError: /interrupted; claimed by nodeA/ }, 'never resumed here now: nodeA holds its claim');

  // CRIU was given a pidfile that names a live tree: a restore that made the container (or is making it)
  const live = stateDir(t);
  restoring(live);
  const pidFile = join(run, 'web1.restored.pid');
  writeFileSync(pidFile, `${process.pid}\n`);
  writeRestoreIntent({ name: RESOURCE, pidFile, migrationId: ID, since: new Date().toISOString() });
  t.same(op(live, 'claim', ID, 'nodeA', 'nodeB'), { ok: false, error: `checkpoint ${ID} is claimed by nodeB` }, 'a live tree: not given away');
  // the restore's intent with no pidfile yet and nothing alive: CRIU was killed before it made anything
  rmSync(pidFile);
  t.match(op(live, 'claim', ID, 'nodeA', 'nodeB'), { ok: true }, 'its pidfile never written: given up');

  // the container runs on nodeB (its node-local record): never given away
  const running = stateDir(t);
  restoring(running);
  writeLocalRecord({ name: RESOURCE, pid: process.pid, startTime: 1, pidNamespace: 'pid:[1]', hostInterface: undefined, origin: 'restore', since: new Date().toISOString() });
  t.same(op(running, 'claim', ID, 'nodeA', 'nodeB'), { ok: false, error: `checkpoint ${ID} is claimed by nodeB` }, 'running here: not given away');
});

t.test('claim: a claim whose owner is unknown (a crash between mkdir and owner.json) is nobody\'s to take', async (t) => {
  const d = stateDir(t);
  d.records.write(record(ID, T0 + 200));
  mkdirSync(d.store.claimPath(ID));
  t.same(op(d, 'claim', ID, 'nodeB'), { ok: false, error: `checkpoint ${ID} is claimed by another node` });
});

t.test('claim: refused for a checkpoint restored or aborted here, and nothing is claimed', async (t) => {
  const restored = stateDir(t);
  restored.records.write(record(ID, T0 + 200, { phase: 'restored', restoredOn: 'nodeC' }));
  t.same(op(restored, 'claim', ID, 'nodeB'), { ok: false, error: `checkpoint ${ID} is restored here (on nodeC)`, settled: 'restored' });
  t.notOk(existsSync(restored.store.claimPath(ID)), 'no claim left');

  const aborted = stateDir(t);
  aborted.records.write(record(ID, T0 + 200, { phase: 'aborted' }));
  images(aborted, ID);
  t.same(op(aborted, 'claim', ID, 'nodeB'), { ok: false, error: `checkpoint ${ID} is aborted here`, settled: 'aborted' });
  t.notOk(existsSync(aborted.store.claimPath(ID)), 'no claim left');
});

t.test('claim: refused once this node has moved on to a newer migration', async (t) => {
  const d = stateDir(t);
  const newer = idAt(T0 + 60_000, 'ffffffff');
  d.records.write(record(newer, T0 + 60_200, { phase: 'restored', restoredOn: 'nodeA' }));
  received(d, record(ID, T0 + 200));
  t.same(op(d, 'claim', ID, 'nodeB'), { ok: false, error: `a newer migration (${newer}, restored) has happened since checkpoint ${ID}`, settled: 'restored' });
  t.notOk(existsSync(d.store.claimPath(ID)), 'no claim left');

  for (const phase of ['dumping', 'dumped', 'restoring'] as const) {
    d.records.write(record(newer, T0 + 60_200, { phase }));
    t.equal(op(d, 'claim', ID, 'nodeB').ok, false, `refused while the newer one is ${phase}`);
  }
  d.records.write(record(newer, T0 + 60_200, { phase: 'aborted' }));
  t.same(op(d, 'claim', ID, 'nodeB'), { ok: true, done: `claimed ${ID} for nodeB` }, 'an aborted newer migration changed nothing: the older checkpoint may be claimed');
});

t.test('claim: the id\'s time (seconds, UTC) against the record\'s dump start, with one second of slack', async (t) => {
  const d = stateDir(t);
  d.records.write(record(idAt(T0 - 600_000, 'eeeeeeee'), T0 - 600_000, { phase: 'restored', restoredOn: 'nodeA' }));
  t.equal(op(d, 'claim', ID, 'nodeB').ok, true, 'an older migration here does not stand in the way');

  // the same second: the id is made just before the dump starts, so a record started within the second is not newer
  const sameSecond = idAt(T0 + 120_000, '11111111');
  d.records.write(record(idAt(T0 + 120_000, '22222222'), T0 + 121_000, { phase: 'restored', restoredOn: 'nodeA' }));
  t.equal(op(d, 'claim', sameSecond, 'nodeB').ok, true, 'dump start 1000 ms after the id\'s second: not newer');
  d.records.write(record(idAt(T0 + 120_000, '22222222'), T0 + 121_001, { phase: 'restored', restoredOn: 'nodeA' }));
  t.equal(op(d, 'claim', idAt(T0 + 120_000, '33333333'), 'nodeB').ok, false, '1001 ms after: newer');

  const now = stateDir(t);
  const fresh = newMigrationId();
  now.records.write(record(idAt(Date.now() + 3_600_000, '44444444'), Date.now() + 3_600_000, { phase: 'restored', restoredOn: 'nodeA' }));
  t.equal(op(now, 'claim', fresh, 'nodeB').ok, false, 'an id from newMigrationId is read as its real time (an hour later is newer)');
  now.records.write(record(idAt(Date.now() - 3_600_000, '55555555'), Date.now() - 3_600_000, { phase: 'restored', restoredOn: 'nodeA' }));
  t.equal(op(now, 'claim', fresh, 'nodeB').ok, true, 'and an hour earlier is older (UTC on both sides)');
});

t.test('claim: on a node holding nothing of the checkpoint, the claim stands in for a copy still on its way', async (t) => {
  const d = stateDir(t, false);
  t.notOk(existsSync(d.store.root), 'nothing of the resource here');
  t.same(op(d, 'claim', ID, 'nodeB'), { ok: true, done: `claimed ${ID} for nodeB` });
  t.equal(d.records.claimOwner(ID), 'nodeB');

  // the transfer completes after all
  const late = record(ID, T0 + 200);
  received(d, late);
  t.equal(adoptReceived(d.records, () => true), undefined, 'the late copy is not adopted');
  t.notOk(existsSync(d.store.recordPath()), 'no record written');
  t.equal(heldCheckpoint(d.records), undefined, 'nor offered for resuming');
  t.same(heldOp(d.dir, { op: 'held', resource: RESOURCE }), { ok: true, held: null });
  t.same(op(d, 'claim', ID, 'nodeA'), { ok: false, error: `checkpoint ${ID} is claimed by nodeB` }, 'nor claimable by another node');

  t.same(op(d, 'release', ID, 'nodeB'), { ok: true, done: `released ${ID}` });
  t.equal(adoptReceived(d.records, () => true)?.id, ID, 'once released, it can be adopted');
});

t.test('release: only the asker\'s own claim', async (t) => {
  const d = stateDir(t);
  d.records.write(record(ID, T0 + 200));
  images(d, ID);
  t.same(op(d, 'release', ID, 'nodeB'), { ok: true, done: `released ${ID}` }, 'releasing nothing is fine');
  t.ok(d.records.claim(ID, 'nodeB'));
  t.same(op(d, 'release', ID, 'nodeC'), { ok: true, done: `released ${ID}` }, 'the answer does not tell others\' claims apart');
  t.equal(d.records.claimOwner(ID), 'nodeB', 'but nodeC did not release nodeB\'s claim');
  t.same(op(d, 'release', idAt(T0, 'deadbeef'), 'nodeB'), { ok: true, done: `released ${idAt(T0, 'deadbeef')}` });
  t.equal(d.records.claimOwner(ID), 'nodeB', 'nor does a release of another checkpoint');
  t.same(op(d, 'release', ID, 'nodeB'), { ok: true, done: `released ${ID}` });
  t.notOk(existsSync(d.store.claimPath(ID)), 'nodeB released its own');
  t.same(op(d, 'claim', ID, 'nodeC'), { ok: true, done: `claimed ${ID} for nodeC` }, 'then another node may claim it');
  t.equal(d.records.read()?.phase, 'dumped', 'the record is untouched throughout');
  t.ok(d.records.imagesComplete(ID), 'and the images');
});

t.test('restored: marks this node\'s record restored, removes the copy, releases the asker\'s claim', async (t) => {
  const d = stateDir(t);
  d.records.write(record(ID, T0 + 200));
  images(d, ID);
  t.same(op(d, 'claim', ID, 'nodeB'), { ok: true, done: `claimed ${ID} for nodeB` });
  t.same(op(d, 'restored', ID, 'nodeB'), { ok: true, done: `${ID} restored on nodeB: copy removed` });
  const after = d.records.read();
  t.equal(after?.phase, 'restored');
  t.equal(after?.restoredOn, 'nodeB');
  t.equal(after?.dumpStartedAt, T0 + 200, 'the rest of the record is kept');
  t.notOk(existsSync(d.store.imagesDir(ID)), 'images removed');
  t.notOk(existsSync(d.store.claimPath(ID)), 'claim released');
  t.same(op(d, 'claim', ID, 'nodeC'), { ok: false, error: `checkpoint ${ID} is restored here (on nodeB)`, settled: 'restored' }, 'never claimable again');
  t.same(heldOp(d.dir, { op: 'held', resource: RESOURCE }), { ok: true, held: null }, 'nor held');

  t.same(op(d, 'restored', ID, 'nodeC'), { ok: true, done: `${ID} restored on nodeC: copy removed` }, 'told twice');
  t.equal(d.records.read()?.restoredOn, 'nodeB', 'a restored record is not rewritten');
});

t.test('restored: another node\'s claim stays, another migration\'s record is not touched', async (t) => {
  const d = stateDir(t);
  const own = record(idAt(T0 - 3_600_000, '99999999'), T0 - 3_600_000, { phase: 'restored', restoredOn: 'nodeA' });
  d.records.write(own);
  received(d, record(ID, T0 + 200));
  images(d, idAt(T0 - 60_000, '77777777'));
  t.ok(d.records.claim(ID, 'nodeC'));
  t.same(op(d, 'restored', ID, 'nodeB'), { ok: true, done: `${ID} restored on nodeB: copy removed` });
  t.notOk(existsSync(d.store.imagesDir(ID)), 'the received copy is removed');
  t.equal(d.records.claimOwner(ID), 'nodeC', 'nodeC\'s claim is not nodeB\'s to release');
  const after = d.records.read();
  t.equal(after?.id, own.id, 'the record of another migration stays');
  t.equal(after?.restoredOn, 'nodeA');
  t.ok(existsSync(d.store.imagesDir(idAt(T0 - 60_000, '77777777'))), 'other checkpoints\' images stay');
});

t.test('held: the own pending checkpoint, only with complete images', async (t) => {
  const d = stateDir(t);
  const held = () => heldOp(d.dir, { op: 'held', resource: RESOURCE });
  t.same(held(), { ok: true, held: null }, 'nothing here');
  d.records.write(record(ID, T0 + 200));
  images(d, ID, false);
  t.same(held(), { ok: true, held: null }, 'images without inventory.img are not a checkpoint');
  writeFileSync(join(d.store.imagesDir(ID), 'inventory.img'), 'inv');
  t.same(held(), { ok: true, held: { id: ID, source: 'nodeA', target: 'nodeB', dumpedAt: T0 + 700 } });
  d.records.write(record(ID, T0 + 200, { phase: 'restoring' }));
  t.same(held(), { ok: true, held: { id: ID, source: 'nodeA', target: 'nodeB', dumpedAt: T0 + 700 } }, 'restoring is resumable too');
  d.records.write(record(ID, T0 + 200, { phase: 'restoring', dumpedAt: undefined }));
  t.same(held(), { ok: true, held: { id: ID, source: 'nodeA', target: 'nodeB', dumpedAt: T0 + 200 } }, 'without dumpedAt, the dump start');
  for (const phase of ['dumping', 'restored', 'aborted'] as const) {
    d.records.write(record(ID, T0 + 200, { phase }));
    t.same(held(), { ok: true, held: null }, `not when ${phase}`);
  }
});

t.test('held: else the newest complete received checkpoint not claimed by anyone', async (t) => {
  const d = stateDir(t);
  const held = () => heldOp(d.dir, { op: 'held', resource: RESOURCE });
  const older = record(idAt(T0 + 10_000, '10101010'), T0 + 10_000, { source: 'nodeC', target: 'nodeD' });
  const newer = record(idAt(T0 + 20_000, '20202020'), T0 + 20_000, { source: 'nodeC', target: 'nodeE' });
  const newest = record(idAt(T0 + 30_000, '30303030'), T0 + 30_000);
  received(d, older);
  received(d, newer);
  received(d, newest, false);
  t.same(held(), { ok: true, held: { id: newer.id, source: 'nodeC', target: 'nodeE', dumpedAt: T0 + 20_500 } }, 'the newest complete one');
  t.notOk(existsSync(d.store.recordPath()), 'answering does not adopt it');
  writeFileSync(join(d.store.imagesDir(newest.id), 'inventory.img'), 'inv');
  t.equal((held() as { held: { id: string } }).held.id, newest.id, 'complete now, it is the one');
  t.ok(d.records.claim(newest.id, 'nodeB'));
  t.equal((held() as { held: { id: string } }).held.id, newer.id, 'a claimed one is skipped');
  t.ok(d.records.claim(newer.id, 'nodeB'));
  t.ok(d.records.claim(older.id, 'nodeB'));
  t.same(held(), { ok: true, held: null }, 'all claimed: none');

  const w = stateDir(t);
  received(w, record(idAt(T0, 'abababab'), T0, { phase: 'restoring' }));
  received(w, record(idAt(T0 + 1000, 'cdcdcdcd'), T0 + 1000, { phase: 'restored' }));
  t.same(heldOp(w.dir, { op: 'held', resource: RESOURCE }), { ok: true, held: null }, 'only records that travelled as dumped count');
});

t.test('held: the own pending checkpoint comes first; a received one older than the own record is not offered', async (t) => {
  const d = stateDir(t);
  const held = () => heldOp(d.dir, { op: 'held', resource: RESOURCE });
  const own = record(ID, T0 + 200, { source: 'nodeB', target: 'nodeA' });
  d.records.write(own);
  images(d, ID);
  received(d, record(idAt(T0 + 60_000, '60606060'), T0 + 60_000));
  t.equal((held() as { held: { id: string } }).held.id, ID, 'own pending checkpoint first, even when a newer one was received');

  d.records.write({ ...own, phase: 'restored', restoredOn: 'nodeA' });
  t.equal((held() as { held: { id: string } }).held.id, idAt(T0 + 60_000, '60606060'), 'own one restored: the newer received one');

  d.records.write(record(idAt(T0 + 120_000, '12121212'), T0 + 120_000, { phase: 'aborted' }));
  t.same(held(), { ok: true, held: null }, 'a received checkpoint older than the last migration here is stale');

  const same = stateDir(t);
  received(same, record(ID, T0 + 200));
  same.records.write(record(ID, T0 + 200, { phase: 'restored', restoredOn: 'nodeB' }));
  t.same(heldOp(same.dir, { op: 'held', resource: RESOURCE }), { ok: true, held: null }, 'the received copy of the own (restored) migration is not offered');
});

t.test('the whole exchange: claimed, restored elsewhere, nothing left to resume here', async (t) => {
  const d = stateDir(t);
  d.records.write(record(ID, T0 + 200));
  images(d, ID);
  t.equal(op(d, 'claim', ID, 'nodeB').ok, true);
  t.equal(op(d, 'claim', ID, 'nodeC').ok, false, 'the other candidate loses');
  t.equal(op(d, 'restored', ID, 'nodeB').ok, true);
  t.same(readdirSync(d.store.root).sort(), ['images', 'migration.json']);
  t.same(readdirSync(d.store.imagesRoot()), []);
  t.same(heldOp(d.dir, { op: 'held', resource: RESOURCE }), { ok: true, held: null });
});
