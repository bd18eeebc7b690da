/**
 * monitor and probes. Reads only local state (no external command unless monitor_cmd is set), so it stays cheap.
 * A probe asks "is it active here?": it needs neither CRIU nor the shared storage, and answers 7 on a node
 * that cannot run the container at all.
 */
import { OCF, OcfError, type OcfCode } from '../exit-codes.js';
import type { ActionContext } from '../context.js';
import { loadDriver } from '../../runtime/driver.js';
import { existsSync } from 'node:fs';
import { statusPath } from '../../criu/background-status.js';

export async function monitor(ctx: ActionContext): Promise<OcfCode> {
  const config = ctx.config();
  const driver = await loadDriver(config);
  const status = driver.status();
  if (status.state !== 'stopped' && existsSync(statusPath(config.name, 'lazy-pages'))) {
    // checked first: a process whose pages stopped arriving may have died of it, and this says why
    const { checkLazyRestore } = await import('../../migrate/lazy-finish.js');
    const broken = checkLazyRestore(config);
    if (broken) throw new OcfError(OCF.ERR_GENERIC, broken);
  }
  switch (status.state) {
    case 'stopped':
      return OCF.NOT_RUNNING;
    case 'dead':
      if (ctx.probe) return OCF.NOT_RUNNING;
      throw new OcfError(OCF.ERR_GENERIC, `container ${config.name} failed: ${status.detail}`);
    case 'running':
      if (config.storage === 'drbd') {
        const { storageFor } = await import('../../storage/lifecycle.js');
        const problem = await storageFor(config).runProblem();
        if (problem) throw new OcfError(OCF.ERR_GENERIC, `container ${config.name} runs, but ${problem}`);
      }
      if (!ctx.probe) {
        try {
          await driver.healthCheck();
        } catch (err) {
          throw new OcfError(OCF.ERR_GENERIC, `container ${config.name} is unhealthy: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return OCF.SUCCESS;
  }
}
