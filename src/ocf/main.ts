/**
 * Entry point of the agent: dispatches the action Pacemaker asked for (run-agent.ts turns its outcome into an OCF
 * exit code). Each action's code is imported only when that action runs; monitor, which runs every few seconds for
 * every container, has a bundle of its own (monitor-main.ts).
 */
import { OCF, type OcfCode } from './exit-codes.js';
import { ACTION_NAMES } from './actions.js';
import { readEnvironment } from './environment.js';
import type { ActionContext } from './context.js';
import { reportFailure, runAgent as runWith } from './run-agent.js';

export { EXIT_REASON_PREFIX } from './run-agent.js';

const USAGE = `usage: container {${ACTION_NAMES.join('|')}}

ocf:ferry:container manages a Linux container and live-migrates it between nodes with CRIU.
Expects the resource parameters as OCF_RESKEY_* environment variables; see the meta-data action or
man ocf_ferry_container.
`;

/** Actions after which a verdict of the helper's may no longer be true, and which no judgement may overlap. */
const CHANGES_THE_CONTAINER = ['start', 'stop', 'migrate_to', 'migrate_from'];

async function dispatch(action: string, env: NodeJS.ProcessEnv): Promise<OcfCode> {
  switch (action) {
    case 'meta-data': {
      const { printMetadata } = await import('./actions/meta-data.js');
      return printMetadata();
    }
    case 'usage':
    case 'help':
      process.stdout.write(USAGE);
      return OCF.SUCCESS;
    case '':
      process.stderr.write(USAGE);
      return reportFailure(OCF.ERR_ARGS, 'no action given');
    default:
      break;
  }
  if (!(ACTION_NAMES as readonly string[]).includes(action)) {
    process.stderr.write(USAGE);
    return reportFailure(OCF.ERR_UNIMPLEMENTED, `action "${action.slice(0, 40)}" is not supported by this agent`);
  }
  const { prepareContext } = await import('./context.js');
  const ctx: ActionContext = prepareContext(action, env, readEnvironment(env));
  if (CHANGES_THE_CONTAINER.includes(action)) {
    const { quiesceWatch } = await import('../migrate/watch.js');
    await quiesceWatch(ctx.environment.resourceInstance, Math.min(10_000, ctx.deadline.remainingMs() / 4));
  }
  switch (action) {
    case 'monitor': return (await import('./actions/monitor.js')).monitor(ctx);
    case 'start': return (await import('./actions/start.js')).start(ctx);
    case 'stop': return (await import('./actions/stop.js')).stop(ctx);
    case 'validate-all': return (await import('./actions/validate.js')).validateAll(ctx);
    case 'migrate_to': return (await import('./actions/migrate-to.js')).migrateTo(ctx);
    case 'migrate_from': return (await import('./actions/migrate-from.js')).migrateFrom(ctx);
    default: return reportFailure(OCF.ERR_UNIMPLEMENTED, `action "${action}" is not supported`);
  }
}

export async function runAgent(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<OcfCode> {
  return runWith(dispatch, args, env);
}

export async function main(args: readonly string[]): Promise<void> {
  process.exitCode = await runAgent(args);
}
