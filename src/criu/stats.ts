/**
 * CRIU's own figures, parsed from what `--display-stats` prints ("Frozen time: 67380 us",
 * "Memory pages written: 5818 (0x16ba)").
 */
export interface DumpStats {
  freezingTimeUs: number | undefined;
  frozenTimeUs: number | undefined;
  memdumpTimeUs: number | undefined;
  memwriteTimeUs: number | undefined;
  pagesScanned: number | undefined;
  pagesWritten: number | undefined;
  pagesSkippedParent: number | undefined;
  pagesLazy: number | undefined;
}

export interface RestoreStats {
  pagesRestored: number | undefined;
  restoreTimeUs: number | undefined;
  forkingTimeUs: number | undefined;
}

function field(text: string, label: string): number | undefined {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export function parseDumpStats(text: string): DumpStats {
  return {
    freezingTimeUs: field(text, 'Freezing time'),
    frozenTimeUs: field(text, 'Frozen time'),
    memdumpTimeUs: field(text, 'Memory dump time'),
    memwriteTimeUs: field(text, 'Memory write time'),
    pagesScanned: field(text, 'Memory pages scanned'),
    pagesWritten: field(text, 'Memory pages written'),
    pagesSkippedParent: field(text, 'Memory pages skipped from parent'),
    pagesLazy: field(text, 'Lazy memory pages'),
  };
}

export function parseRestoreStats(text: string): RestoreStats {
  return {
    pagesRestored: field(text, 'Pages restored'),
    restoreTimeUs: field(text, 'Restore time'),
    forkingTimeUs: field(text, 'Forking time'),
  };
}

/** Pages `criu lazy-pages` copied in through userfaultfd, summed over the restored tasks (its log, at -v4). */
export function parseLazyPagesTransferred(log: string): number | undefined {
  const counts = [...log.matchAll(/UFFD transferred pages: \((\d+)\/\d+\)/g)].map((m) => Number(m[1]));
  return counts.length ? counts.reduce((a, b) => a + b, 0) : undefined;
}

/**
 * A lazy dump prints its --display-stats only once the page server has served everything, long after the
 * migration: its page figures come from the dump log instead, one "Pagemap generated: N pages (L lazy) H holes"
 * line per memory area (N counts the lazy pages too; H pages were left to the parent pre-copy round).
 */
export function parsePagemapGenerated(log: string): Pick<DumpStats, 'pagesWritten' | 'pagesLazy' | 'pagesSkippedParent'> | undefined {
  const areas = [...log.matchAll(/Pagemap generated: (\d+) pages(?: \((\d+) lazy\))? (\d+) holes/g)];
  if (!areas.length) return undefined;
  const sum = (i: number) => areas.reduce((a, m) => a + Number(m[i] ?? 0), 0);
  return { pagesWritten: sum(1) - sum(2), pagesLazy: sum(2), pagesSkippedParent: sum(3) };
}
