/**
 * When iterative pre-copy stops copying and freezes for the final dump. Pure. After each pre-dump round (the
 * container running), one of these ends the rounds:
 *   - the round wrote at most `convergePages` pages: what is left is tiny;
 *   - the round wrote more than `maxGrowthPercent` % more than the one before: the container dirties memory
 *     faster than it is copied, more rounds would not converge (P.Haul's rule);
 *   - the estimated final downtime is within `downtimeTargetMs`: about as many pages as the last round will be
 *     dirty again, written at the rate the last round achieved, plus the fixed cost (freezing, metadata);
 *   - `maxIterations` rounds were made.
 */
export interface PrecopyRound {
  pagesWritten: number;
  /** Time CRIU spent writing this round's pages. */
  memWriteMs: number;
  /** Time the container was frozen for this round (pre-dumps freeze briefly to collect the dirty set). */
  frozenMs: number;
}

export interface ConvergenceLimits {
  maxIterations: number;
  convergePages: number;
  maxGrowthPercent: number;
  downtimeTargetMs: number;
}

export type Verdict = { again: true; estimateMs: number | undefined } | { again: false; why: string; estimateMs: number | undefined };

/**
 * Estimated downtime of a final dump after `last`: a pre-dump freezes only to collect the dirty pages and writes
 * them after the thaw, a final dump does both frozen; about as many pages will be dirty again.
 */
export function estimateFinalMs(last: PrecopyRound): number {
  return Math.round(Math.max(0, last.frozenMs) + Math.max(0, last.memWriteMs));
}

export function nextStep(rounds: readonly PrecopyRound[], limits: ConvergenceLimits): Verdict {
  const last = rounds[rounds.length - 1];
  if (!last) return { again: true, estimateMs: undefined };
  const estimateMs = estimateFinalMs(last);
  const previous = rounds[rounds.length - 2];
  if (last.pagesWritten <= limits.convergePages) {
    return { again: false, why: `round ${rounds.length} wrote ${last.pagesWritten} pages (at most ${limits.convergePages}): converged`, estimateMs };
  }
  if (previous && last.pagesWritten > previous.pagesWritten * (1 + limits.maxGrowthPercent / 100)) {
    return { again: false, why: `round ${rounds.length} wrote ${last.pagesWritten} pages, more than ${limits.maxGrowthPercent} % above the ${previous.pagesWritten} before: not converging`, estimateMs };
  }
  if (estimateMs !== undefined && estimateMs <= limits.downtimeTargetMs) {
    return { again: false, why: `estimated final downtime ${estimateMs} ms is within migration_downtime=${limits.downtimeTargetMs}`, estimateMs };
  }
  if (rounds.length >= limits.maxIterations) {
    return { again: false, why: `max_iterations=${limits.maxIterations} rounds made`, estimateMs };
  }
  return { again: true, estimateMs };
}
