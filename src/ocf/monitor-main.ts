/**
 * The agent's entry for monitor alone, bundled on its own (dist/agent-monitor.cjs): every monitor Pacemaker runs
 * without the helper's verdict compiles this much and no more. Every other action goes through main.ts.
 */
import { OCF, type OcfCode } from './exit-codes.js';
import { readEnvironment } from './environment.js';
import { prepareContext } from './context.js';
import { monitor } from './actions/monitor.js';
import { reportFailure, runAgent } from './run-agent.js';

async function dispatchMonitor(action: string, env: NodeJS.ProcessEnv): Promise<OcfCode> {
  if (action !== 'monitor') return reportFailure(OCF.ERR_UNIMPLEMENTED, `the monitor entry was asked for "${action.slice(0, 40)}"`);
  return monitor(prepareContext(action, env, readEnvironment(env)));
}

export async function main(args: readonly string[]): Promise<void> {
  process.exitCode = await runAgent(dispatchMonitor, args);
}
