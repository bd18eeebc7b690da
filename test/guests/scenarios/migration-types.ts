/**
 * Issue #7's acceptance for the four migration types, where all four can run: in the QEMU guests (stock Debian
 * 6.1 kernel: soft-dirty and userfaultfd; CRIU 3.17.1), under their Pacemaker cluster. For each of simple,
 * iterative, lazy and iterative+lazy (migration_type_strict=true: no silent fallback) a container with 64 MiB of
 * memory dirtying 4 MiB/s of an 8 MiB working set, on storage=shared (state_dir on the 9p share), is moved guest1 -> guest2 with
 * crm_resource --move while a client outside the cluster keeps one TCP session open to it. iterative+lazy must
 * show that its pre-copy paid off: the lazy restore reads the pre-copied pages from the images and fetches only
 * what was dirtied since (CRIU issue #2853 reports the opposite). A scenario of the guest stage (test/guests/guest-stage.guest.ts).
 */
import type { Test } from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_IDS, guestName, mustGuest, SHARED_DIR } from '../guests.js';
import { activeOn, clientReplies, move, startClient, waitClientReplies, workloadCopies } from '../drbd-container.js';
import { counter, criuLog, installWorkload, migrationRecord, placeContainer, precopyRoundDirs, removeContainer, waitSummary } from '../shared-container.js';
import { MIGRATION_TYPES } from '../../../src/settings/params.js';

// the dirtying goes round a hot set, not the whole ballast: pre-copy must pay off however slowly this machine's
// emulated guests copy (round and round 256 MiB at 4 MiB/s, a slow machine's rounds had dirtied nearly all of it)
const BALLAST_MIB = 64;
const DIRTY_MIB_PER_S = 4;
const HOT_MIB = 8;
const BALLAST_PAGES = BALLAST_MIB * 256;
const CLIENT_STOP = join(SHARED_DIR, 'client.stop');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What CRIU's own logs say about parent pages, for a lazy final dump on top of pre-copy rounds. */
function parentEvidence(id: string): string {
  const dump = criuLog(id, 'dump.log');
  const lines = dump.split('\n').filter((l) => /Pagemap generated|No parent image|Pid reuse|parent/i.test(l)).slice(0, 6);
  return `rounds ${precopyRoundDirs(id).join(',') || 'none'}; dump.log: ${lines.map((l) => l.replace(/^\(\s*[\d.]+\)\s*/, '')).join(' | ') || '(nothing about parents)'}`;
}

export const title = 'the four migration types in the guests, under Pacemaker';

export async function run(t: Test): Promise<void> {
  installWorkload();
  const fetchedByType = new Map<string, number>();

  for (const type of MIGRATION_TYPES) {
    await t.test(`${type}: ${BALLAST_MIB} MiB dirtying ${DIRTY_MIB_PER_S} MiB/s of ${HOT_MIB} MiB, guest1 -> guest2`, async (t) => {
      await placeContainer({ type, ballastMiB: BALLAST_MIB, dirtyMiBps: DIRTY_MIB_PER_S, hotMiB: HOT_MIB, keepImages: true }, 1);
      const before = counter();
      rmSync(CLIENT_STOP, { force: true });
      const client = startClient(1800, { stopFile: CLIENT_STOP });
      await waitClientReplies(20); // the session is up and talking (not a guessed pause: TCG speed is this CPU's)
      await sleep(2000); // and the workload has dirtied memory for a while

      const started = performance.now();
      await move(2);
      const totalMs = Math.round(performance.now() - started);
      const s = await waitSummary();
      const after = counter();
      await waitClientReplies(20, clientReplies()); // replies after the move, over the same session
      writeFileSync(CLIENT_STOP, '');
      const c = await client;

      t.equal(s.type, type, `migrated as ${type} (strict: no fallback)`);
      t.same(await activeOn(), [guestName(2)], 'Pacemaker runs it on guest2');
      t.same(await Promise.all(GUEST_IDS.map((n) => workloadCopies(n, '/shared/web1/counter'))), [0, 1], 'one copy of the workload, on guest2');
      t.equal(after?.instance, before?.instance, `the same process (instance ${before?.instance ?? '?'})`);
      t.ok((after?.value ?? 0) > (before?.value ?? Infinity), `the counter went on (${before?.value ?? '?'} -> ${after?.value ?? '?'})`);
      t.same(c.errors, [], `the TCP session survived${c.errors.length ? `: ${c.errors.join('; ')}` : ''}`);
      t.ok(c.counter_monotonic && c.replies > 0, `the counter seen over TCP never went back (${c.replies} replies, longest pause ${c.max_gap_ms} ms)`);
      t.notMatch(await mustGuest(1, ['crm_mon', '-1', '--output-as=xml']), /<failure /, 'crm_mon: no failed actions');

      const rounds = s.precopyRounds ?? [];
      if (type === 'iterative' || type === 'iterative+lazy') t.ok(rounds.length > 0, `pre-copy rounds: ${rounds.join('/')} pages (${s.precopyStop ?? ''})`);
      t.comment(`${type}: downtime ${s.downtimeMs} ms (dump ${s.dumpMs}, hand-over ${s.handoverMs}, restore ${s.restoreMs} ms), total ${totalMs} ms `
        + `(crm_resource --move to idle), ${rounds.length} pre-copy round(s) ${rounds.join('/') || '-'} pages, final dump ${s.pagesWritten ?? '?'} pages written, `
        + `${s.pagesRestored ?? '?'} restored from images, ${s.lazyPagesFetched ?? 0} fetched lazily${s.allMemoryMs !== undefined ? `, all memory in after ${s.allMemoryMs} ms` : ''}`);

      if (type === 'lazy' || type === 'iterative+lazy') {
        t.ok(s.lazyPagesFetched !== undefined, `lazy-pages' transferred pages recorded (${s.lazyPagesFetched ?? 'none'})`);
        fetchedByType.set(type, s.lazyPagesFetched ?? NaN);
      }
      if (type === 'lazy') t.ok((s.lazyPagesFetched ?? 0) >= BALLAST_PAGES * 0.9, `plain lazy fetches the whole ballast (${s.lazyPagesFetched} >= 90 % of ${BALLAST_PAGES})`);
      if (type === 'iterative+lazy') {
        const id = migrationRecord()?.id ?? '';
        const stats = migrationRecord()?.dumpStats;
        t.comment(`iterative+lazy final dump: ${stats?.pagesSkippedParent ?? '?'} pages left to the parent round, ${stats?.pagesLazy ?? '?'} lazy, `
          + `${stats?.pagesWritten ?? '?'} written; ${parentEvidence(id)}`);
        const lazyFetched = fetchedByType.get('lazy') ?? NaN;
        t.ok((s.lazyPagesFetched ?? Infinity) * 4 < lazyFetched,
          `the pre-copy paid off: ${s.lazyPagesFetched} pages fetched lazily against plain lazy's ${lazyFetched}`);
        t.ok((s.pagesRestored ?? 0) >= BALLAST_PAGES / 2, `most memory restored from the pre-copied images (${s.pagesRestored} pages)`);
        // the source's side of the same fact: CRIU marked those pages as holes to be read from the last round
        t.ok((stats?.pagesSkippedParent ?? 0) >= BALLAST_PAGES / 2, `the final dump left ${stats?.pagesSkippedParent ?? '?'} pages to the pre-copy round`);
      }
      await removeContainer();
    });
  }
}
