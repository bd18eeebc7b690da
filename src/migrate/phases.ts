/**
 * The engine's backbone: a migration is a sequence of named phases, each with its undo. When a phase fails, the
 * undos of the phases already done run in reverse order, so the container ends where it was before.
 */
import { logger } from '../util/log.js';

export interface Phase {
  name: string;
  run(): Promise<void>;
  /** Puts things back as they were before run() (also after a partial run). */
  undo?(): Promise<void>;
}

export class PhaseError extends Error {
  constructor(readonly phase: string, readonly failure: unknown, readonly undoErrors: string[]) {
    super(`${phase}: ${failure instanceof Error ? failure.message : String(failure)}`
      + (undoErrors.length ? `; rollback problems: ${undoErrors.join('; ')}` : ''));
  }
}

export interface PhaseTiming { phase: string; ms: number }

export async function runPhases(phases: readonly Phase[], timings: PhaseTiming[] = []): Promise<PhaseTiming[]> {
  const done: Phase[] = [];
  for (const phase of phases) {
    const started = Date.now();
    logger.debug(`phase ${phase.name}: begin`);
    try {
      await phase.run();
    } catch (err) {
      logger.warning(`phase ${phase.name} failed: ${err instanceof Error ? err.message : String(err)}; rolling back`);
      const undoErrors: string[] = [];
      for (const p of [phase, ...done.reverse()]) {
        if (!p.undo) continue;
        try {
          await p.undo();
          logger.info(`rolled back ${p.name}`);
        } catch (undoErr) {
          undoErrors.push(`${p.name}: ${undoErr instanceof Error ? undoErr.message : String(undoErr)}`);
        }
      }
      throw new PhaseError(phase.name, err, undoErrors);
    }
    timings.push({ phase: phase.name, ms: Date.now() - started });
    done.push(phase);
  }
  return timings;
}
