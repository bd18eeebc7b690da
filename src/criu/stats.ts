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
