/**
 * Whether the container runs here and is well, as monitor and probes ask it. Reads only local state (no external
 * command unless monitor_cmd is set), so it stays cheap. A probe ("is it active here?", `firstLook`) needs
 * neither CRIU nor the shared storage and skips monitor_cmd; a dead container is then simply not running here,
 * unless it left something that needs a stop (a half-restored tree).
 */
import { existsSync } from 'node:fs';
import { statusPath } from '../criu/background-status.js';
import { messageOf } from '../util/errors.js';
import type { ContainerHere } from './container.js';

export type Health =
  | { state: 'running' }
  | { state: 'stopped' }
  | { state: 'failed'; reason: string };

export async function containerHealth(here: ContainerHere, firstLook: boolean): Promise<Health> {
  const { config, driver } = here;
  const status = driver.status();
  if (status.state !== 'stopped' && existsSync(statusPath(config.name, 'lazy-pages'))) {
    // checked first: a process whose pages stopped arriving may have died of it, and this says why
    const { checkLazyRestore } = await import('./lazy-finish.js');
    const broken = await checkLazyRestore(config);
    if (broken) return { state: 'failed', reason: broken };
  }
  switch (status.state) {
    case 'stopped':
      return { state: 'stopped' };
    case 'dead':
      return firstLook && !status.leftover ? { state: 'stopped' } : { state: 'failed', reason: `container ${config.name} failed: ${status.detail}` };
    case 'running':
      if (config.storage === 'drbd') {
        const { storageFor } = await import('../storage/lifecycle.js');
        const problem = await storageFor(config).runProblem();
        if (problem) return { state: 'failed', reason: `container ${config.name} runs, but ${problem}` };
      }
      if (!firstLook) {
        try {
          await driver.healthCheck();
        } catch (err) {
          return { state: 'failed', reason: `container ${config.name} is unhealthy: ${messageOf(err)}` };
        }
      }
      return { state: 'running' };
  }
}
