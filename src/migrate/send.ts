/** The source's side of a migration (migrate_to), as the front doors call it: checkpoint the container for `target`. */
import type { ContainerHere } from './container.js';
import type { MigrationRecord } from './record.js';

export async function migrateAway(here: ContainerHere, target: string): Promise<MigrationRecord> {
  await here.driver.migrationProblem?.();
  const { engineContext } = await import('./context.js');
  const { checkpointForTarget } = await import('./source.js');
  return checkpointForTarget(engineContext(here.config, await here.localNode(), here.driver, here.deadline), target);
}
