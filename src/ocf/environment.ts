import { bool } from '../settings/param-types.js';

/**
 * What Pacemaker tells an agent besides the parameters: instance name, operation timeout and interval, the
 * node it runs on and, during a migration, the source and target nodes.
 */
export interface OcfEnvironment {
  readonly resourceInstance: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly intervalMs: number;
  readonly onNode: string | undefined;
  readonly migrateSource: string | undefined;
  readonly migrateTarget: string | undefined;
  readonly checkLevel: number;
  readonly allowMigrate: boolean;
}

/** Pacemaker's notion of a true boolean, the same spellings the parameters accept. */
function isTrue(raw: string | undefined): boolean {
  try {
    return raw !== undefined && bool(raw);
  } catch {
    return false;
  }
}

function milliseconds(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^[0-9]+$/.test(raw)) return undefined;
  return Number(raw);
}

export function readEnvironment(env: NodeJS.ProcessEnv): OcfEnvironment {
  return {
    resourceInstance: env.OCF_RESOURCE_INSTANCE || undefined,
    timeoutMs: milliseconds(env.OCF_RESKEY_CRM_meta_timeout),
    intervalMs: milliseconds(env.OCF_RESKEY_CRM_meta_interval) ?? 0,
    onNode: env.OCF_RESKEY_CRM_meta_on_node || undefined,
    migrateSource: env.OCF_RESKEY_CRM_meta_migrate_source || undefined,
    migrateTarget: env.OCF_RESKEY_CRM_meta_migrate_target || undefined,
    checkLevel: milliseconds(env.OCF_CHECK_LEVEL) ?? 0,
    allowMigrate: isTrue(env.OCF_RESKEY_CRM_meta_allow_migrate),
  };
}

/** A probe is a monitor with interval 0: Pacemaker asking "is it running here?", not a health check. */
export function isProbe(action: string, environment: OcfEnvironment): boolean {
  return action === 'monitor' && environment.intervalMs === 0;
}
