/**
 * The one parameter table of ocf:ferry:container, assembled from its parts: what every container has, each
 * driver's and each storage's own parameters, and the migration's. Metadata XML, the man page, parsing and
 * validation are all derived from it; parameter names are a public contract (admins write them in their CIB).
 */
import type { ParamPart, ParamTable, ValuesOf } from './param-types.js';
import { COMMON, COMMON_PARAMS } from './parts/common.js';
import { NATIVE, NATIVE_PARAMS } from './parts/native.js';
import { LXC, LXC_PARAMS } from './parts/lxc.js';
import { NETWORK, NETWORK_PARAMS } from './parts/network.js';
import { PODMAN, PODMAN_PARAMS } from './parts/podman.js';
import { DRBD, DRBD_PARAMS } from './parts/drbd.js';
import { MIGRATION, MIGRATION_PARAMS } from './parts/migration.js';
import { PLACEMENT, PLACEMENT_PARAMS } from './parts/placement.js';

export { DRIVERS, STORAGE_KINDS } from './parts/common.js';
export { MIGRATION_TYPES, type MigrationType } from './parts/migration.js';

export const PARAMS = { ...COMMON_PARAMS, ...NATIVE_PARAMS, ...NETWORK_PARAMS, ...LXC_PARAMS, ...PODMAN_PARAMS, ...DRBD_PARAMS, ...MIGRATION_PARAMS, ...PLACEMENT_PARAMS } as const;

export type ParamName = keyof typeof PARAMS;
export type Config = ValuesOf<typeof PARAMS>;

/** The parts in the order the metadata and the man page list them. */
export const PARTS: readonly ParamPart<ParamTable, Config>[] = [COMMON, NATIVE, NETWORK, LXC, PODMAN, DRBD, MIGRATION, PLACEMENT] as readonly ParamPart<ParamTable, never>[];

/** Who uses a parameter ("driver=native", "storage=drbd"), undefined when every container does. */
export function appliesTo(name: ParamName): string | undefined {
  return PARTS.find((part) => name in part.params)?.appliesTo;
}

/** Earlier parameter names still accepted (old -> current), from every part; each is listed as deprecated. */
export const RENAMED: Readonly<Record<string, ParamName>> = Object.assign({}, ...PARTS.map((part) => part.renamed ?? {})) as Record<string, ParamName>;

/** The deprecated names of `name`. */
export function formerNames(name: ParamName): string[] {
  return Object.entries(RENAMED).filter(([, now]) => now === name).map(([old]) => old);
}
