/**
 * Iterative migration's pre-copy: CRIU pre-dump rounds while the container runs, each writing only the memory
 * dirtied since the round before (soft-dirty tracking), into IMAGES/pre-N; convergence.ts decides when to stop.
 * The final dump then writes what changed since the last round, with that round as its parent. A failed round
 * leaves the container running and simply ends pre-copy (the final dump is then a full one).
 */
import { join } from 'node:path';
import { ensurePrivateDir } from '../util/files.js';
import { logger } from '../util/log.js';
import type { Deadline } from '../util/deadline.js';
import { nextStep, type ConvergenceLimits, type PrecopyRound } from './convergence.js';
import type { EngineContext } from './context.js';

export interface PrecopyReport {
  rounds: (PrecopyRound & { ms: number })[];
  why: string;
  /** The last complete round, relative to the images directory: the final dump's parent. */
  parentDir: string | undefined;
}

const us2ms = (us: number | undefined) => Math.round((us ?? 0) / 1000);

export function limitsOf(ctx: EngineContext): ConvergenceLimits {
  const c = ctx.config;
  return { maxIterations: c.max_iterations, convergePages: c.converge_pages, maxGrowthPercent: c.max_growth_percent, downtimeTargetMs: c.migration_downtime };
}

/**
 * `sendRound`, with storage=none, sends each round to the target while the container runs on; when it fails,
 * pre-copy ends and the final dump is a full one (the target may lack a round).
 */
export async function precopy(ctx: EngineContext, pid: number, imagesDir: string, deadline: Deadline,
  sendRound?: (dir: string) => Promise<void>): Promise<PrecopyReport> {
  const limits = limitsOf(ctx);
  const rounds: PrecopyReport['rounds'] = [];
  let parentDir: string | undefined;
  for (let n = 1; ; n += 1) {
    // keep at least half of what is left for the final dump and the restore
    if (deadline.remainingMs() < 10_000) return { rounds, why: 'the action\'s deadline is near', parentDir };
    const dir = `pre-${n}`;
    ensurePrivateDir(join(imagesDir, dir));
    const began = Date.now();
    try {
      const stats = await ctx.criu.preDump({ pid, imagesDir: join(imagesDir, dir), parentDir: parentDir ? `../${parentDir}` : undefined },
        Math.round(deadline.remainingMs() / 2));
      rounds.push({ pagesWritten: stats.pagesWritten ?? 0, memWriteMs: us2ms(stats.memwriteTimeUs), frozenMs: us2ms(stats.frozenTimeUs), ms: Date.now() - began });
    } catch (err) {
      const why = `pre-copy round ${n} failed (${err instanceof Error ? err.message : String(err)}); the container runs on and the final dump ${parentDir ? 'builds on round ' + (n - 1) : 'is a full one'}`;
      logger.warning(why);
      return { rounds, why, parentDir };
    }
    if (sendRound) {
      try {
        await sendRound(dir);
      } catch (err) {
        const why = `sending pre-copy round ${n} failed (${err instanceof Error ? err.message : String(err)}); the final dump is a full one`;
        logger.warning(why);
        return { rounds, why, parentDir: undefined };
      }
    }
    parentDir = dir;
    const verdict = nextStep(rounds, limits);
    const r = rounds[rounds.length - 1]!;
    logger.info(`pre-copy round ${n}: ${r.pagesWritten} pages (${(r.pagesWritten / 256).toFixed(1)} MiB) in ${r.ms} ms, frozen ${r.frozenMs} ms; `
      + `estimated final downtime ${verdict.estimateMs ?? '?'} ms${verdict.again ? '' : `; stopping: ${verdict.why}`}`);
    if (!verdict.again) return { rounds, why: verdict.why, parentDir };
  }
}
