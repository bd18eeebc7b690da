/**
 * Entry point of the agent: dispatches the action Pacemaker asked for and turns every outcome into an OCF exit
 * code, with a one-line `ocf-exit-reason:` on stderr for anything but success. Each action's code is imported
 * only when that action runs: monitor runs every few seconds for every container, so it must load little.
 */
import { OCF, OcfError, type OcfCode } from './exit-codes.js';
import { ocfFailure } from './outcomes.js';
import { FerryError } from '../util/errors.js';
import { ACTION_NAMES } from './actions.js';
import { configureLogging, flushLogs, logger, settingsFromEnv } from '../util/log.js';
import { readEnvironment } from './environment.js';
import type { ActionContext } from './context.js';

const USAGE = `usage: container {${ACTION_NAMES.join('|')}}

ocf:ferry:container manages a Linux container and live-migrates it between nodes with CRIU.
Expects the resource parameters as OCF_RESKEY_* environment variables; see the meta-data action or
man ocf_ferry_container.
`;

export const EXIT_REASON_PREFIX = 'ocf-exit-reason:';

function reportFailure(code: OcfCode, reason: string): OcfCode {
  const line = reason.replace(/\s+/g, ' ').trim();
  process.stderr.write(`${process.env.OCF_EXIT_REASON_PREFIX ?? EXIT_REASON_PREFIX}${line}\n`);
  logger.err(line);
  return code;
}

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

/**
 * An error no code path caught (an 'error' event nobody listens to, a rejected promise nobody awaits) would end the
 * process with status 1 and no exit reason: Pacemaker's log would then say nothing of what happened. Say it.
 */
function reportEscapedErrors(action: string): void {
  const escaped = (what: string) => (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && err.stack) logger.err(`${action}: ${what}: ${err.stack.split('\n').slice(0, 6).join(' | ')}`);
    process.exitCode = reportFailure(OCF.ERR_GENERIC, `${action}: internal error (${what}: ${message}); this is a bug in ferry`);
    void flushLogs().finally(() => process.exit());
  };
  process.once('uncaughtException', escaped('uncaught exception'));
  process.once('unhandledRejection', escaped('unhandled rejection'));
}

export async function runAgent(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<OcfCode> {
  configureLogging(settingsFromEnv(env, 'container'));
  const action = args[0] ?? '';
  reportEscapedErrors(action);
  let code: OcfCode;
  try {
    code = await dispatch(action, env);
  } catch (err) {
    if (!(err instanceof OcfError || err instanceof FerryError) && err instanceof Error && err.stack) logger.debug(err.stack);
    const failure = ocfFailure(err, action);
    code = failure.code === OCF.SUCCESS ? OCF.SUCCESS : reportFailure(failure.code, failure.reason);
  }
  await flushLogs();
  return code;
}

export async function main(args: readonly string[]): Promise<void> {
  process.exitCode = await runAgent(args);
}
