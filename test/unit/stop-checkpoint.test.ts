/**
 * checkpoint_on_stop: when a stop checkpoints the container first (and when it stops it plainly, with the reason),
 * how long the dump may take within stop's deadline, what a start does with such a checkpoint (resumed like an
 * unfinished migration's, too old or unusable: set aside and started afresh), and its record on a real directory.
 */
import t from 'tap';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  afterFailedResume, decideStopCheckpoint, DUMP_FIXED_MS, estimateDumpMs, peerCheckpointBlocksStart, STOP_AFTER_DUMP_MS,
  type StopCheckpointInput,
} from '../../src/migrate/stop-checkpoint-plan.js';
import { ANY_NODE, heldCheckpoint, isStopCheckpoint, pendingCheckpoint, RecordStore, type MigrationRecord } from '../../src/migrate/record.js';
import { sealImages } from '../../src/migrate/seal.js';
import { StateStore } from '../../src/storage/state-store.js';

const MiB = 1048576;
const input = (change: Partial<StopCheckpointInput> = {}): StopCheckpointInput => ({
  enabled: true, stateDir: '/srv/ferry', pid: 4242, lazySource: false, recordPhase: 'restored', remainingMs: 54_000, stopTimeoutS: 3, residentBytes: 20 * MiB, ...change,
});

t.test('a running container with checkpoint_on_stop and state_dir is checkpointed, within what stop leaves', async (t) => {
  const d = decideStopCheckpoint(input());
  t.ok(d.checkpoint, 'checkpointed');
  if (d.checkpoint) {
    t.equal(d.dumpBudgetMs, 54_000 - 3000 - STOP_AFTER_DUMP_MS, 'the plain stop (stop_timeout and the rest) is kept back from the dump');
    t.equal(d.estimateMs, estimateDumpMs(20 * MiB));
  }
});

t.test('no checkpoint, and why: off, no state_dir, not running, a lazy migration\'s source, an unfinished restore', async (t) => {
  const off = decideStopCheckpoint(input({ enabled: false }));
  t.match(off, { checkpoint: false, warn: false });
  const noDir = decideStopCheckpoint(input({ stateDir: undefined }));
  t.match(noDir, { checkpoint: false, warn: true, why: /needs state_dir/ }, 'asked for but impossible: a warning');
  t.match(decideStopCheckpoint(input({ pid: undefined })), { checkpoint: false, warn: false, why: /not running here/ });
  t.match(decideStopCheckpoint(input({ lazySource: true })), { checkpoint: false, warn: false, why: /runs on the target/ });
  t.match(decideStopCheckpoint(input({ recordPhase: 'restoring' })), { checkpoint: false, warn: true, why: /did not finish here: that checkpoint is kept/ },
    'an interrupted restore\'s checkpoint is not replaced by a dump of what it left');
  t.ok(decideStopCheckpoint(input({ recordPhase: undefined })).checkpoint, 'no record yet: checkpointed');
});

t.test('a dump that cannot finish before stop\'s deadline is not started: the container is stopped plainly', async (t) => {
  const big = decideStopCheckpoint(input({ residentBytes: 8192 * MiB, remainingMs: 54_000 }));
  t.match(big, { checkpoint: false, warn: true, why: /8192 MiB would take about .* s and only 47\.0 s are left .*stop_timeout=3/ });
  const late = decideStopCheckpoint(input({ remainingMs: 5000 }));
  t.match(late, { checkpoint: false, warn: true, why: /only 0\.0 s are left/ }, 'nothing left: no negative budget');
  t.ok(estimateDumpMs(0) === DUMP_FIXED_MS && estimateDumpMs(1024 * MiB) > estimateDumpMs(64 * MiB), 'the estimate grows with memory');
  t.ok(decideStopCheckpoint(input({ stopTimeoutS: 60, remainingMs: 54_000 })).checkpoint === false, 'a long stop_timeout leaves no room');
});

const NOW = Date.parse('2026-12-02T00:00:00Z');
const stopRecord = (change: Partial<MigrationRecord> = {}): MigrationRecord => ({
  id: '20261201235900-0a1b2c3d', name: 'web1', source: 'node1', target: ANY_NODE, requestedType: 'simple', type: 'simple',
  phase: 'dumped', dumpStartedAt: NOW - 60_000, dumpedAt: NOW - 59_000, updatedAt: '', ...change,
});

t.test('a checkpoint made by stop is resumed by the next start like an unfinished migration\'s, unless too old', async (t) => {
  t.ok(isStopCheckpoint(stopRecord()), 'target "*" marks it');
  t.notOk(isStopCheckpoint(stopRecord({ target: 'node2' })), 'a migration\'s names its target');
  t.same(pendingCheckpoint(stopRecord(), 600, NOW), { resume: true });
  t.match(pendingCheckpoint(stopRecord(), 30, NOW), { resume: false, why: /59 s old \(checkpoint_max_age=30\)/ });
  t.match(pendingCheckpoint(stopRecord({ phase: 'aborted' }), 600, NOW), { resume: false, why: /aborted/ }, 'a failed checkpoint on stop is never resumed');
});

t.test('an unusable checkpoint made by stop is set aside and the container starts afresh; a migration\'s keeps failing the start', async (t) => {
  t.equal(afterFailedResume(true), 'start-afresh');
  t.equal(afterFailedResume(false), 'fail');
});

t.test('storage=none: a peer\'s checkpoint made by stop does not block a fresh start here; a migration\'s does', async (t) => {
  t.notOk(peerCheckpointBlocksStart(ANY_NODE, ANY_NODE));
  t.ok(peerCheckpointBlocksStart('node2', ANY_NODE));
});

t.test('on a real directory: the record is held (answering a peer) until claimed, images sealed 0600/0700', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cos-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(dir, 'web1');
  store.ensure();
  const records = new RecordStore(store);
  const r = records.write(stopRecord({ dumpStartedAt: Date.now() - 1000, dumpedAt: Date.now() }));
  mkdirSync(store.imagesDir(r.id), { recursive: true });
  writeFileSync(join(store.imagesDir(r.id), 'inventory.img'), 'x', { mode: 0o644 });
  mkdirSync(join(store.imagesDir(r.id), 'pre-1'), { mode: 0o755 });
  sealImages(store.imagesDir(r.id));
  t.equal(statSync(join(store.imagesDir(r.id), 'inventory.img')).mode & 0o777, 0o600, 'image files 0600');
  t.equal(statSync(join(store.imagesDir(r.id), 'pre-1')).mode & 0o777, 0o700, 'image directories 0700');
  t.equal(heldCheckpoint(records)?.id, r.id, 'held here: a peer\'s start hears of it');
  t.ok(records.claim(r.id, 'node2'), 'the peer that starts afresh claims it');
  t.equal(heldCheckpoint(records), undefined, 'claimed: never resumed here');
});
