/**
 * validate-all at OCF_CHECK_LEVEL=10, the target's side: can this node receive the container by its
 * migration_type (migrate/receive-plan.ts decides), and with storage=drbd, is the DRBD resource configured here.
 * Errors are OcfErrors with their code; what only degrades a migration is logged as a warning.
 */
import { existsSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { OCF, OcfError } from '../exit-codes.js';
import type { Config } from '../params.js';
import { logger } from '../../util/log.js';
import { readJson } from '../../util/files.js';
import { run } from '../../util/run.js';
import { which } from '../../util/which.js';
import { availableMemoryBytes } from '../../util/memory.js';
import type { Capabilities } from '../../criu/capabilities.js';
import type { MigrationSummary } from '../../migrate/summary.js';
import { receiveVerdict } from '../../migrate/receive-plan.js';
import { DrbdVolume } from '../../storage/drbd.js';
import { dualPrimaryProblem, UNCONFIGURED } from '../../storage/drbd-state.js';

const PAGE = 4096;

/** What the container's last migration moved, from last-migration.json where this node can read it. */
function lastMemoryBytes(config: Config): number | undefined {
  if (!config.state_dir) return undefined;
  let s: MigrationSummary | undefined;
  try {
    s = readJson<MigrationSummary>(join(config.state_dir, config.name, 'last-migration.json'));
  } catch {
    return undefined;
  }
  const bytes = Math.max(s?.bytesWritten ?? 0, (s?.pagesRestored ?? 0) * PAGE);
  return bytes > 0 ? bytes : undefined;
}

export function requireReceivable(config: Config, caps: Capabilities): void {
  const verdict = receiveVerdict({
    type: config.migration_type, strict: config.migration_type_strict, storage: config.storage, features: caps,
    criuVersion: caps.criuVersion, kernelRelease: release(), memAvailableBytes: availableMemoryBytes(), lastMemoryBytes: lastMemoryBytes(config),
  });
  for (const w of verdict.warnings) logger.warning(w);
  if (verdict.error) throw new OcfError(verdict.error.code, verdict.error.reason);
}

function drbdVolume(config: Config): DrbdVolume | undefined {
  if (config.storage !== 'drbd' || !config.drbd_resource || !config.mount_point) return undefined;
  return new DrbdVolume({ resource: config.drbd_resource, mountPoint: config.mount_point, fstype: config.fstype, mountOptions: config.mount_options });
}

/** With storage=drbd, state_dir is on the device, there only where it is mounted: elsewhere mount_point must be. */
export function stateDirElsewhere(config: Config): boolean {
  const volume = drbdVolume(config);
  return volume !== undefined && !volume.mounted();
}

/** The DRBD resource must be defined for this host (drbdadm reads only its configuration for sh-dev). */
export async function requireDrbdResource(config: Config): Promise<void> {
  const volume = drbdVolume(config);
  if (!volume || !config.drbd_resource || !config.mount_point) return;
  if (!existsSync(config.mount_point) || !statSync(config.mount_point).isDirectory()) {
    throw new OcfError(OCF.ERR_INSTALLED, `mount_point ${config.mount_point} is not a directory on this node (storage=drbd mounts DRBD ${config.drbd_resource}'s filesystem there)`);
  }
  if (!which('drbdadm')) throw new OcfError(OCF.ERR_INSTALLED, 'storage=drbd needs drbdadm (drbd-utils), which is not installed on this node');
  const r = await run('drbdadm', ['sh-dev', config.drbd_resource], { allowFailure: true, timeoutMs: 10_000 });
  if (r.exitCode !== 0) {
    const said = `${r.stderr}\n${r.stdout}`.trim().split('\n')[0] ?? '';
    throw new OcfError(OCF.ERR_CONFIGURED, `drbd_resource ${config.drbd_resource} is not configured on this node${said ? ` (drbdadm: ${said})` : ''}`);
  }
  const dualPrimary = dualPrimaryProblem(await volume.dump());
  if (dualPrimary) throw new OcfError(OCF.ERR_CONFIGURED, `DRBD ${config.drbd_resource}: ${dualPrimary}`);
  const state = await volume.state();
  if (state.role === UNCONFIGURED.role) logger.warning(`DRBD ${config.drbd_resource} is configured but not up on this node: start and migrate_from refuse until drbdadm up ${config.drbd_resource}`);
}
