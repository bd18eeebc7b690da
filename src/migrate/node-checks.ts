/**
 * Whether this node has what the configuration needs (the driver's programs and bridge, CRIU, state_dir), and
 * whether it can receive the container by its migration_type (receive-plan.ts decides) with its storage. Each
 * failure is a domain error of its kind; what only degrades a migration is logged as a warning.
 */
import { existsSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../settings/params.js';
import type { ContainerDriver } from '../runtime/driver.js';
import type { Capabilities } from '../criu/capabilities.js';
import { stateDirProblem } from '../storage/state-store.js';
import { misconfigured, notInstalled } from '../util/errors.js';
import { logger } from '../util/log.js';
import { readJson } from '../util/files.js';
import { which } from '../util/which.js';
import type { MigrationSummary } from './summary.js';

/** The driver's needs, and CRIU where checkpoints are written or resumed. */
export async function requirePrograms(config: Config, driver: ContainerDriver): Promise<void> {
  await driver.checkNode();
  if (config.state_dir && !which(config.criu_binary)) {
    throw notInstalled(`criu_binary ${config.criu_binary} not found or not executable on this node`);
  }
}

export function requireStateDir(config: Config): void {
  if (!config.state_dir) return;
  const problem = stateDirProblem(config.state_dir);
  if (problem) throw notInstalled(problem);
}

export async function requireCriuWorks(config: Config): Promise<Capabilities> {
  if (!which(config.criu_binary)) throw notInstalled(`criu_binary ${config.criu_binary} not found or not executable on this node`);
  const { capabilities } = await import('../criu/capabilities.js');
  const caps = await capabilities(config.criu_binary);
  if (!caps.criuCheck.ok) throw notInstalled(`criu check fails on this node: ${caps.criuCheck.output}`);
  return caps;
}

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

export async function requireReceivable(config: Config, caps: Capabilities): Promise<void> {
  const { receiveVerdict } = await import('./receive-plan.js');
  const { availableMemoryBytes } = await import('../util/memory.js');
  const verdict = receiveVerdict({
    type: config.migration_type, strict: config.migration_type_strict, storage: config.storage, features: caps,
    criuVersion: caps.criuVersion, kernelRelease: release(), memAvailableBytes: availableMemoryBytes(), lastMemoryBytes: lastMemoryBytes(config),
  });
  for (const w of verdict.warnings) logger.warning(w);
  if (verdict.error) throw verdict.error.kind === 'misconfigured' ? misconfigured(verdict.error.reason) : notInstalled(verdict.error.reason);
}

async function drbdVolume(config: Config) {
  if (config.storage !== 'drbd' || !config.drbd_resource || !config.mount_point) return undefined;
  const { DrbdVolume } = await import('../storage/drbd.js');
  return new DrbdVolume({ resource: config.drbd_resource, mountPoint: config.mount_point, fstype: config.fstype, mountOptions: config.mount_options });
}

/** With storage=drbd, state_dir is on the device, there only where it is mounted: elsewhere mount_point must be. */
export async function stateDirElsewhere(config: Config): Promise<boolean> {
  const volume = await drbdVolume(config);
  return volume !== undefined && !volume.mounted();
}

/** The DRBD resource must be defined for this host (drbdadm reads only its configuration for sh-dev). */
export async function requireDrbdResource(config: Config): Promise<void> {
  const volume = await drbdVolume(config);
  if (!volume || !config.drbd_resource || !config.mount_point) return;
  if (!existsSync(config.mount_point) || !statSync(config.mount_point).isDirectory()) {
    throw notInstalled(`mount_point ${config.mount_point} is not a directory on this node (storage=drbd mounts DRBD ${config.drbd_resource}'s filesystem there)`);
  }
  if (!which('drbdadm')) throw notInstalled('storage=drbd needs drbdadm (drbd-utils), which is not installed on this node');
  const { run } = await import('../util/run.js');
  const r = await run('drbdadm', ['sh-dev', config.drbd_resource], { allowFailure: true, timeoutMs: 10_000 });
  if (r.exitCode !== 0) {
    const said = `${r.stderr}\n${r.stdout}`.trim().split('\n')[0] ?? '';
    throw misconfigured(`drbd_resource ${config.drbd_resource} is not configured on this node${said ? ` (drbdadm: ${said})` : ''}`);
  }
  const { dualPrimaryProblem, UNCONFIGURED } = await import('../storage/drbd-state.js');
  const dualPrimary = dualPrimaryProblem(await volume.dump());
  if (dualPrimary) throw misconfigured(`DRBD ${config.drbd_resource}: ${dualPrimary}`);
  const state = await volume.state();
  if (state.role === UNCONFIGURED.role) logger.warning(`DRBD ${config.drbd_resource} is configured but not up on this node: start and migrate_from refuse until drbdadm up ${config.drbd_resource}`);
}
