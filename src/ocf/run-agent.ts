/**
 * Runs one agent action: logging set up from the environment, every outcome turned into an OCF exit code with a
 * one-line `ocf-exit-reason:` on stderr for anything but success, and errors no code path caught reported too.
 * The entries (main.ts for every action, monitor-main.ts for monitor alone) only say how an action is dispatched.
 */
import { OCF, OcfError, type OcfCode } from './exit-codes.js';
import { ocfFailure } from './outcomes.js';
import { FerryError } from '../util/errors.js';
import { configureLogging, flushLogs, logger, settingsFromEnv } from '../util/log.js';

export const EXIT_REASON_PREFIX = 'ocf-exit-reason:';

export type Dispatch = (action: string, env: NodeJS.ProcessEnv) => Promise<OcfCode>;

export function reportFailure(code: OcfCode, reason: string): OcfCode {
  const line = reason.replace(/\s+/g, ' ').trim();
  process.stderr.write(`${process.env.OCF_EXIT_REASON_PREFIX ?? EXIT_REASON_PREFIX}${line}\n`);
  logger.err(line);
  return code;
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

export async function runAgent(dispatch: Dispatch, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<OcfCode> {
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

