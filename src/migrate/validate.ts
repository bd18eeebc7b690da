/**
 * Validation beyond the parameters: what a live migration needs of the configuration, and (`deep`) whether this
 * node can run the container and receive it by its migration_type (programs, CRIU and the kernel features,
 * state_dir, bridge, DRBD).
 */
import { migrationProblems } from '../settings/config.js';
import { misconfigured } from '../util/errors.js';
import type { ContainerHere } from './container.js';

export interface Validation {
  /** the resource may be migrated live (Pacemaker's allow-migrate) */
  migratable: boolean;
  /** also check this node, not only the configuration */
  deep: boolean;
}

export function requireMigratable(here: Pick<ContainerHere, 'config'>): void {
  const [problem] = migrationProblems(here.config);
  if (problem) throw misconfigured(problem.message);
}

/** Also what the runtime's own configuration says (an LXC config with a console, say), read on this node. */
export async function requireMovable(here: ContainerHere): Promise<void> {
  requireMigratable(here);
  await here.driver.migrationProblem?.();
}

export async function validate(here: ContainerHere, v: Validation): Promise<void> {
  const { config } = here;
  if (v.migratable) await requireMovable(here);
  if (!v.deep) return;
  const checks = await import('./node-checks.js');
  await checks.requirePrograms(config, here.driver);
  if (!(await checks.stateDirElsewhere(config))) checks.requireStateDir(config);
  await checks.requireDrbdResource(config);
  const caps = await checks.requireCriuWorks(config);
  if (config.state_dir) await checks.requireReceivable(config, caps);
}
