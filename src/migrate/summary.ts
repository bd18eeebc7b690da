/** The figures of a finished migration: logged at info and written as JSON next to the images. */
import type { MigrationRecord } from './record.js';

export interface MigrationSummary {
  id: string;
  name: string;
  source: string;
  target: string;
  type: string;
  /** From the start of the freeze on the source to the resumed tree on the target (wall clocks of both nodes). */
  downtimeMs: number | undefined;
  frozenMs: number | undefined;
  dumpMs: number | undefined;
  /** Between the end of the dump and the start of the restore: the cluster manager's hand-over. */
  handoverMs: number | undefined;
  restoreMs: number | undefined;
  pagesWritten: number | undefined;
  bytesWritten: number | undefined;
  pagesRestored: number | undefined;
  /** Lazy migrations: from the start of the freeze until the last page had arrived on the target. */
  allMemoryMs?: number | undefined;
  /** Lazy migrations: pages fetched from the source after the restore (the rest came from the images). */
  lazyPagesFetched?: number | undefined;
  /** Iterative migrations: pages written by each pre-copy round, and why pre-copy stopped. */
  precopyRounds?: number[];
  precopyStop?: string;
  /** storage=drbd: the target's promote and mount (the source's sync, umount and demote are in its log). */
  storageMs?: Record<string, number>;
  /** CRIU's network lock while the container was frozen: iptables where its tools are installed, else nftables. */
  networkLock?: string;
}

const us2ms = (us: number | undefined) => (us === undefined ? undefined : Math.round(us / 100) / 10);

export function summarize(r: MigrationRecord): MigrationSummary {
  const freezeStart = r.dumpStartedAt + (us2ms(r.dumpStats?.freezingTimeUs) ?? 0);
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    target: r.restoredOn ?? r.target,
    type: r.type,
    downtimeMs: r.restoredAt !== undefined ? Math.max(0, r.restoredAt - r.dumpStartedAt) : undefined,
    frozenMs: us2ms(r.dumpStats?.frozenTimeUs),
    dumpMs: r.dumpedAt !== undefined ? Math.round(r.dumpedAt - freezeStart) : undefined,
    handoverMs: r.dumpedAt !== undefined && r.restoreStartedAt !== undefined ? r.restoreStartedAt - r.dumpedAt : undefined,
    restoreMs: us2ms(r.restoreStats?.restoreTimeUs),
    pagesWritten: r.dumpStats?.pagesWritten,
    bytesWritten: r.dumpStats?.pagesWritten !== undefined ? r.dumpStats.pagesWritten * 4096 : undefined,
    pagesRestored: r.restoreStats?.pagesRestored,
    ...(r.storageMs ? { storageMs: r.storageMs } : {}),
    ...(r.networkLock ? { networkLock: r.networkLock } : {}),
    ...(r.precopy ? { precopyRounds: r.precopy.rounds.map((x) => x.pages), precopyStop: r.precopy.why } : {}),
    ...(r.lazy ? { allMemoryMs: r.lazyDoneAt !== undefined ? r.lazyDoneAt - r.dumpStartedAt : undefined, lazyPagesFetched: r.lazyPagesFetched } : {}),
  };
}

export function describeSummary(s: MigrationSummary): string {
  const mib = s.bytesWritten !== undefined ? `${(s.bytesWritten / 1048576).toFixed(1)} MiB` : '? MiB';
  return `migrated ${s.name} ${s.source} -> ${s.target} (${s.type}): downtime ${s.downtimeMs ?? "?"} ms `
    + `(dump ${s.dumpMs ?? '?'} ms, hand-over ${s.handoverMs ?? '?'} ms, restore ${s.restoreMs ?? '?'} ms), `
    + (s.precopyRounds ? `after ${s.precopyRounds.length} pre-copy round(s) of ${s.precopyRounds.join('/')} pages, ` : '')
    + (s.type === 'lazy' || s.type === 'iterative+lazy'
      ? `${s.pagesRestored ?? '?'} pages from the images, the rest fetched on demand`
        + `${s.lazyPagesFetched !== undefined ? ` (${s.lazyPagesFetched} pages)` : ''}${s.allMemoryMs !== undefined ? `, all of it in ${s.allMemoryMs} ms` : ''}`
      : `frozen ${s.frozenMs ?? '?'} ms, ${mib} of memory (${s.pagesWritten ?? '?'} pages)`);
}
