/** CRIU's own figures, from the --display-stats text of CRIU 4.2.1 as captured on the lab machine. */
import t from 'tap';
import { parseDumpStats, parsePagemapGenerated, parseRestoreStats } from '../../src/criu/stats.js';

const DUMP = `Displaying dump stats:
Freezing time: 442 us
Frozen time: 67380 us
Memory dump time: 41987 us
Memory write time: 10809 us
IRMAP resolve time: 0 us
Memory pages scanned: 5885 (0x16fd)
Memory pages skipped from parent: 0 (0x0)
Memory pages written: 5818 (0x16ba)
Lazy memory pages: 0 (0x0)
`;

const RESTORE = `Displaying restore stats:
Pages compared: 0 (0x0)
Pages skipped COW: 0 (0x0)
Pages restored: 5818 (0x16ba)
Restore time: 28502 us
Forking time: 0 us
`;

t.test('dump stats: every figure, in its unit, decimal not hex', async (t) => {
  t.same(parseDumpStats(DUMP), {
    freezingTimeUs: 442,
    frozenTimeUs: 67380,
    memdumpTimeUs: 41987,
    memwriteTimeUs: 10809,
    pagesScanned: 5885,
    pagesWritten: 5818,
    pagesSkippedParent: 0,
    pagesLazy: 0,
  });
});

t.test('restore stats: every figure', async (t) => {
  t.same(parseRestoreStats(RESTORE), { pagesRestored: 5818, restoreTimeUs: 28502, forkingTimeUs: 0 });
});

t.test('stats are found among other output (stdout and stderr joined, warnings first)', async (t) => {
  const noisy = `Warn  (criu/kerndat.c:1234): some warning\n${DUMP}\n(00.1) something after\n`;
  t.equal(parseDumpStats(noisy).frozenTimeUs, 67380);
  t.equal(parseRestoreStats(`\n\n${RESTORE}`).restoreTimeUs, 28502);
});

t.test('similar labels are not confused', async (t) => {
  const onlyFrozen = parseDumpStats('Frozen time: 5 us\n');
  t.equal(onlyFrozen.frozenTimeUs, 5);
  t.equal(onlyFrozen.freezingTimeUs, undefined, '"Frozen time" is not "Freezing time"');
  const onlySkipped = parseDumpStats('Memory pages skipped from parent: 7 (0x7)\n');
  t.equal(onlySkipped.pagesSkippedParent, 7);
  t.equal(onlySkipped.pagesScanned, undefined);
  t.equal(onlySkipped.pagesWritten, undefined);
  t.equal(parseRestoreStats('Pages skipped COW: 9 (0x9)\n').pagesRestored, undefined);
});

t.test('missing fields are undefined, not 0 or NaN', async (t) => {
  t.same(parseDumpStats(''), {
    freezingTimeUs: undefined, frozenTimeUs: undefined, memdumpTimeUs: undefined, memwriteTimeUs: undefined,
    pagesScanned: undefined, pagesWritten: undefined, pagesSkippedParent: undefined, pagesLazy: undefined,
  });
  t.same(parseRestoreStats('Error (criu/cr-restore.c:2447): Restoring FAILED.\n'),
    { pagesRestored: undefined, restoreTimeUs: undefined, forkingTimeUs: undefined });
  const truncated = parseDumpStats('Displaying dump stats:\nFreezing time: 442 us\nFrozen time: \n');
  t.equal(truncated.freezingTimeUs, 442);
  t.equal(truncated.frozenTimeUs, undefined, 'a label without a number');
});

t.test('dump stats are not read from restore output, nor the other way round', async (t) => {
  t.same(Object.values(parseDumpStats(RESTORE)).filter((v) => v !== undefined), []);
  t.same(Object.values(parseRestoreStats(DUMP)).filter((v) => v !== undefined), []);
});

t.test('a lazy dump: page figures summed from the dump log\'s "Pagemap generated" lines', async (t) => {
  // CRIU 3.17 lines, as in a lazy final dump on top of a pre-copy round (the log prefix is CRIU's)
  const log = '(00.412305) Pagemap generated: 12 pages (0 lazy) 3 holes\n'
    + '(00.413001) Dumping pages (type: 55 pid: 1)\n'
    + '(00.520116) Pagemap generated: 2054 pages (2000 lazy) 63002 holes\n'
    + '(00.530116) Pagemap generated: 4 pages (4 lazy) 0 holes\n';
  t.same(parsePagemapGenerated(log), { pagesWritten: 66, pagesLazy: 2004, pagesSkippedParent: 63005 });
  t.same(parsePagemapGenerated('(00.1) Pagemap generated: 7 pages 2 holes\n'), { pagesWritten: 7, pagesLazy: 0, pagesSkippedParent: 2 },
    'older CRIU, without the lazy count');
  t.equal(parsePagemapGenerated('(00.1) Dumping finished successfully\n'), undefined, 'no such line: unknown, not zero');
});
