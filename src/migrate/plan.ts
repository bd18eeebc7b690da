/**
 * Choosing the migration type actually performed, from the requested one and what both nodes can do. Pure.
 * Fallback chain: iterative+lazy -> iterative or lazy -> simple; with strict, a missing feature is a failure.
 */
import type { MigrationType } from '../settings/params.js';

export interface NodeFeatures {
  memDirtyTrack: boolean;
  uffdNoncoop: boolean;
  /** Why CRIU's page server could not serve lazy pages here, when it could not (see criu/pipe-limit.ts). */
  lazyTransportProblem?: string | undefined;
  /** Why the container's runtime cannot pre-copy, or restore lazily, when it cannot (driver=lxc, podman). */
  runtimePrecopyProblem?: string | undefined;
  runtimeLazyProblem?: string | undefined;
}

/** Types whose final step is lazy (the source serves memory after the restore). */
export const isLazy = (type: MigrationType): boolean => type === 'lazy' || type === 'iterative+lazy';
/** Types that pre-copy memory in rounds while the container runs. */
export const precopies = (type: MigrationType): boolean => type === 'iterative' || type === 'iterative+lazy';

/** The types this version of the engine performs. */
export const IMPLEMENTED: ReadonlySet<MigrationType> = new Set<MigrationType>(['simple', 'iterative', 'lazy', 'iterative+lazy']);

export type Plan =
  | { ok: true; type: MigrationType; fallbacks: string[] }
  | { ok: false; reason: string };

function missing(type: MigrationType, f: NodeFeatures): string | undefined {
  const needs: string[] = [];
  if (precopies(type) && !f.memDirtyTrack) {
    needs.push('soft-dirty memory tracking (criu check --feature mem_dirty_track fails: kernel without CONFIG_MEM_SOFT_DIRTY)');
  }
  if (isLazy(type) && !f.uffdNoncoop) {
    needs.push('non-cooperative userfaultfd (criu check --feature uffd-noncoop fails)');
  }
  if (isLazy(type) && f.uffdNoncoop && f.lazyTransportProblem) needs.push(f.lazyTransportProblem);
  if (precopies(type) && f.runtimePrecopyProblem) needs.push(f.runtimePrecopyProblem);
  if (isLazy(type) && f.runtimeLazyProblem) needs.push(f.runtimeLazyProblem);
  if (needs.length === 0 && !IMPLEMENTED.has(type)) {
    needs.push(`an engine for ${type} migration, which this version of Ferry does not have yet`);
  }
  return needs.length ? needs.join(' and ') : undefined;
}

function simpler(type: MigrationType, f: NodeFeatures): MigrationType {
  if (type !== 'iterative+lazy') return 'simple';
  // the better half that can work here, else straight to simple: never a detour through a type that cannot
  if (missing('iterative', f) === undefined) return 'iterative';
  if (missing('lazy', f) === undefined) return 'lazy';
  return 'simple';
}

export function planMigration(requested: MigrationType, features: NodeFeatures, strict: boolean): Plan {
  const fallbacks: string[] = [];
  let type = requested;
  for (;;) {
    const lack = missing(type, features);
    if (!lack) return { ok: true, type, fallbacks };
    if (strict) return { ok: false, reason: `migration_type=${requested} is not possible here and migration_type_strict=true: needs ${lack}` };
    const next = simpler(type, features);
    fallbacks.push(`${type} needs ${lack}: falling back to ${next}`);
    type = next;
  }
}
