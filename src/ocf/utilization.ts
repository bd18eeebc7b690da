/**
 * autoset_utilization_memory / _cpu: the container's size as the resource's Pacemaker utilization, so that
 * placement-strategy places it (and a drain moves it) only where it fits. Pacemaker's own business, so it lives
 * at this front door: the engine says how big the container is (migrate/size.ts). The value last written is kept
 * in the run directory, so the CIB is written only when it changes, not on every monitor; a failure is logged,
 * never the monitor's.
 */
import { join } from 'node:path';
import type { Config } from '../settings/params.js';
import type { ContainerHere } from '../migrate/container.js';
import { containerSize, memoryUtilization } from '../migrate/size.js';
import { ensurePrivateDir, readJson, removeQuietly, writeJsonAtomic } from '../util/files.js';
import { logger } from '../util/log.js';
import { namespaceOf } from '../util/proc.js';
import { run } from '../util/run.js';
import { runDir } from '../util/run-dir.js';

interface Written { memory?: number; cpu?: number; noCpuLimitSaid?: boolean }

const writtenPath = (name: string) => join(runDir(), 'utilization', `${name}.json`);

function wanted(config: Config): boolean {
  return config.autoset_utilization_memory || config.autoset_utilization_cpu;
}

async function setUtilization(resource: string, attribute: 'memory' | 'cpu', value: number): Promise<boolean> {
  const r = await run('crm_resource', ['--resource', resource, '--utilization', '--set-parameter', attribute, '--parameter-value', String(value)],
    { allowFailure: true, timeoutMs: 10_000 });
  if (r.exitCode === 0) {
    logger.info(`utilization ${attribute}=${value} set for ${resource}`);
    return true;
  }
  logger.warning(`could not set utilization ${attribute}=${value} for ${resource}: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.exitCode}`}`);
  return false;
}

export function forgetUtilization(name: string): void {
  removeQuietly(writtenPath(name));
}

export async function autosetUtilization(resource: string | undefined, here: ContainerHere): Promise<void> {
  const { config, driver } = here;
  if (!wanted(config) || !resource) return;
  const status = driver.status();
  if (status.state !== 'running') return;
  const size = containerSize(status.pid, namespaceOf(status.pid, 'pid'));
  let written: Written = {};
  try {
    written = readJson<Written>(writtenPath(config.name)) ?? {};
  } catch { /* unreadable: written again below */ }
  const next: Written = { ...written };
  if (config.autoset_utilization_memory) {
    const memory = memoryUtilization(size, written.memory);
    if (memory !== written.memory && await setUtilization(resource, 'memory', memory)) next.memory = memory;
  }
  if (config.autoset_utilization_cpu) {
    if (size.cpuLimit === undefined) {
      if (!written.noCpuLimitSaid) logger.notice(`${config.name} has no CPU limit: no cpu utilization set for ${resource}`);
      next.noCpuLimitSaid = true;
    } else if (size.cpuLimit !== written.cpu && await setUtilization(resource, 'cpu', size.cpuLimit)) {
      next.cpu = size.cpuLimit;
    }
  }
  if (JSON.stringify(next) !== JSON.stringify(written)) {
    ensurePrivateDir(join(runDir(), 'utilization'));
    writeJsonAtomic(writtenPath(config.name), next);
  }
}
