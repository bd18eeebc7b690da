/**
 * The figures of a finished migration (logged and written to last-migration.json): downtime, frozen time,
 * dump / hand-over / restore durations and memory moved, from the record both nodes filled in.
 */
import t from 'tap';
import { describeSummary, summarize } from '../../src/migrate/summary.js';
import type { MigrationRecord } from '../../src/migrate/record.js';
import { parseDumpStats, parseRestoreStats } from '../../src/criu/stats.js';

const T0 = Date.parse('2025-06-01T12:00:00Z');

// CRIU 4.2.1's --display-stats of a real dump and restore on this project's lab
const DUMP_STATS = parseDumpStats('Displaying dump stats:\nFreezing time: 442 us\nFrozen time: 67380 us\nMemory dump time: 41987 us\n'
  + 'Memory write time: 10809 us\nIRMAP resolve time: 0 us\nMemory pages scanned: 5885 (0x16fd)\n'
  + 'Memory pages skipped from parent: 0 (0x0)\nMemory pages written: 5818 (0x16ba)\nLazy memory pages: 0 (0x0)\n');
const RESTORE_STATS = parseRestoreStats('Displaying restore stats:\nPages compared: 0 (0x0)\nPages skipped COW: 0 (0x0)\n'
  + 'Pages restored: 5818 (0x16ba)\nRestore time: 28502 us\nForking time: 0 us\n');

function finished(change: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    id: '20250601120000-0a1b2c3d', name: 'web1', source: 'node1', target: 'node2', requestedType: 'iterative', type: 'simple',
    phase: 'restored', dumpStartedAt: T0, dumpedAt: T0 + 150, restoreStartedAt: T0 + 400, restoredAt: T0 + 480,
    dumpStats: DUMP_STATS, restoreStats: RESTORE_STATS, updatedAt: new Date(T0 + 480).toISOString(), ...change,
  };
}

t.test('a finished migration: downtime from freeze start to resumed tree, and each part of it', async (t) => {
  const s = summarize(finished());
  t.equal(s.downtimeMs, 480, 'restoredAt - dumpStartedAt');
  t.equal(s.frozenMs, 67.4, 'CRIU\'s frozen time, 67380 us, in ms to 0.1');
  t.equal(s.dumpMs, 150, 'dumpedAt - (dumpStartedAt + 0.442 ms freezing), rounded');
  t.equal(s.handoverMs, 250, 'restoreStartedAt - dumpedAt: Pacemaker\'s part');
  t.equal(s.restoreMs, 28.5, 'CRIU\'s restore time, 28502 us');
  t.equal(s.pagesWritten, 5818);
  t.equal(s.bytesWritten, 5818 * 4096);
  t.equal(s.pagesRestored, 5818);
  t.same([s.id, s.name, s.source, s.target, s.type], ['20250601120000-0a1b2c3d', 'web1', 'node1', 'node2', 'simple']);
});

t.test('the type reported is the one performed, not the one requested', async (t) => {
  t.equal(summarize(finished({ requestedType: 'iterative+lazy', type: 'simple' })).type, 'simple');
});

t.test('a checkpoint resumed on another node names the node it was restored on', async (t) => {
  t.equal(summarize(finished({ restoredOn: 'node3' })).target, 'node3');
});

t.test('a long freezing time moves the start of the dump proper', async (t) => {
  const slowFreeze = parseDumpStats('Freezing time: 40000 us\nFrozen time: 90000 us\n');
  t.equal(summarize(finished({ dumpStats: slowFreeze })).dumpMs, 110, '150 ms minus 40 ms of freezing');
});

t.test('figures not known yet are undefined, never NaN', async (t) => {
  const s = summarize(finished({ phase: 'dumping', dumpedAt: undefined, restoreStartedAt: undefined, restoredAt: undefined,
    dumpStats: undefined, restoreStats: undefined }));
  for (const key of ['downtimeMs', 'frozenMs', 'dumpMs', 'handoverMs', 'restoreMs', 'pagesWritten', 'bytesWritten', 'pagesRestored'] as const) {
    t.equal(s[key], undefined, key);
  }
  const partial = summarize(finished({ dumpStats: parseDumpStats('Frozen time: 1000 us\n') }));
  t.equal(partial.frozenMs, 1);
  t.equal(partial.pagesWritten, undefined);
  t.equal(partial.bytesWritten, undefined, 'no page count, no byte count');
  t.equal(partial.dumpMs, 150, 'no freezing time: the dump starts at dumpStartedAt');
});

t.test('clocks of two nodes disagreeing never give a negative downtime', async (t) => {
  t.equal(summarize(finished({ restoredAt: T0 - 30 })).downtimeMs, 0);
});

t.test('the log line has the figures an admin looks for, "?" for the unknown', async (t) => {
  const line = describeSummary(summarize(finished()));
  t.match(line, /^migrated web1 node1 -> node2 \(simple\): downtime 480 ms /);
  t.match(line, '(dump 150 ms, hand-over 250 ms, restore 28.5 ms)');
  t.match(line, 'frozen 67.4 ms');
  t.match(line, '22.7 MiB of memory (5818 pages)', '5818 pages of 4 KiB');
  const unknown = describeSummary(summarize(finished({ restoredAt: undefined, dumpStats: undefined, restoreStats: undefined })));
  t.match(unknown, 'downtime ? ms');
  t.match(unknown, '? MiB of memory (? pages)');
  t.notMatch(unknown, /NaN|undefined/);
});
