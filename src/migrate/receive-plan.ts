/**
 * Can this node receive a container by its migration_type? What validate-all at OCF_CHECK_LEVEL=10 answers on a
 * (future) target, from this node's side only: the kernel features the type needs here, a CRIU new enough for
 * this kernel, and the memory the container last needed. Pure. A missing feature is an error only with
 * migration_type_strict=true (the migration would fail); otherwise a warning naming the fallback.
 */
import type { FailureKind } from '../util/errors.js';
import type { MigrationType } from '../settings/params.js';
import { isLazy, planMigration, type NodeFeatures } from './plan.js';
import { criuTooOldForKernel } from './precheck.js';

export interface ReceiveFacts {
  type: MigrationType;
  strict: boolean;
  storage: string;
  features: NodeFeatures;
  criuVersion: string | undefined;
  kernelRelease: string;
  memAvailableBytes: number;
  /** Memory the container's last migration moved (from last-migration.json), when known. */
  lastMemoryBytes: number | undefined;
}

export interface ReceiveVerdict {
  error: { kind: FailureKind; reason: string } | undefined;
  warnings: string[];
}

const ALL_FEATURES: NodeFeatures = { memDirtyTrack: true, uffdNoncoop: true, lazyTransportProblem: undefined };
const LAZY_ON_DRBD = 'images both nodes can read while the pages move (with storage=drbd the source gives the device up first)';
const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

export function receiveVerdict(f: ReceiveFacts): ReceiveVerdict {
  const warnings: string[] = [];
  const fail = (kind: FailureKind, reason: string): ReceiveVerdict => ({ error: { kind, reason }, warnings });
  if (criuTooOldForKernel(f.criuVersion, f.kernelRelease)) {
    return fail('not-installed', `CRIU ${f.criuVersion ?? '?'} cannot checkpoint TCP sockets on kernel ${f.kernelRelease}: CRIU 4.2 or later is needed on this node (test/lab/install-criu.sh)`);
  }
  // a type no node can perform strictly is the configuration's fault, not this node's
  const anywhere = planMigration(f.type, ALL_FEATURES, f.strict);
  if (!anywhere.ok) return fail('misconfigured', anywhere.reason);
  const lazy = isLazy(f.type);
  if (lazy && f.storage === 'drbd' && f.strict) {
    return fail('misconfigured', `migration_type=${f.type} with storage=drbd cannot be performed and migration_type_strict=true: lazy migration needs ${LAZY_ON_DRBD}`);
  }
  const here = planMigration(f.type, f.features, f.strict);
  if (!here.ok) return fail('not-installed', `this node cannot receive ${f.type} migrations: ${here.reason.replace(/ is not possible here/, ' is not possible on this node')}`);
  for (const fallback of here.fallbacks) warnings.push(`migration_type=${f.type} on this node: ${fallback}`);
  if (lazy && f.storage === 'drbd' && here.type === 'lazy') warnings.push(`migration_type=${f.type} with storage=drbd: lazy needs ${LAZY_ON_DRBD}: migrations fall back to simple`);
  if (f.lastMemoryBytes !== undefined && f.memAvailableBytes < f.lastMemoryBytes) {
    warnings.push(`this node has ${mib(f.memAvailableBytes)} of memory available, the container's last migration moved ${mib(f.lastMemoryBytes)}: a migration here would be refused now`);
  }
  return { error: undefined, warnings };
}
