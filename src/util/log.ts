/**
 * Logging the way ocf_log does: to syslog through logger(1) when HA_LOGFACILITY is set, to HA_LOGFILE and
 * HA_DEBUGLOG when set, else to stderr; debug lines only with HA_debug=1 (or to HA_DEBUGLOG). Every line carries
 * the agent and resource instance, like "container(web1)[4242]: INFO: ...".
 *
 * winston costs about 240 ms to import, more than a whole monitor should take, so it is loaded on the first
 * line actually emitted; a monitor that finds everything fine logs nothing and never loads it.
 */
import type { Backend } from './log-backend.js';
import type { Level, LogSettings } from './log-types.js';

export type { Level, LogSettings } from './log-types.js';

const LEVEL_LABEL: Record<Level, string> = { err: 'ERROR', warning: 'WARNING', notice: 'NOTICE', info: 'INFO', debug: 'DEBUG' };

export function settingsFromEnv(env: NodeJS.ProcessEnv, program: string): LogSettings {
  const instance = env.OCF_RESOURCE_INSTANCE;
  const facility = env.HA_LOGFACILITY && env.HA_LOGFACILITY !== 'none' ? env.HA_LOGFACILITY : undefined;
  const logFile = env.HA_LOGFILE || undefined;
  return {
    tag: `${program}${instance ? `(${instance})` : ''}[${process.pid}]`,
    facility,
    logFile,
    debugLog: env.HA_DEBUGLOG || undefined,
    debug: env.HA_debug === '1' || env.HA_debug === 'true',
    stderr: facility === undefined && logFile === undefined,
  };
}

let settings: LogSettings = settingsFromEnv(process.env, 'ferry');
let backend: Promise<Backend> | undefined;
let pending: Promise<void> = Promise.resolve();

export function configureLogging(next: LogSettings): void {
  settings = next;
  backend = undefined;
}

function wanted(level: Level): boolean {
  return level !== 'debug' || settings.debug || settings.debugLog !== undefined;
}

export function log(level: Level, message: string): void {
  if (!wanted(level)) return;
  const line = `${LEVEL_LABEL[level]}: ${message}`;
  backend ??= import('./log-backend.js').then((m) => m.createBackend(settings));
  const ready = backend;
  pending = pending.then(async () => { (await ready).log(level, line); }).catch(() => undefined);
}

export const logger = {
  err: (m: string) => log('err', m),
  warning: (m: string) => log('warning', m),
  notice: (m: string) => log('notice', m),
  info: (m: string) => log('info', m),
  debug: (m: string) => log('debug', m),
};

/** Waits until every queued line has been handed to its transports and they have finished writing. */
export async function flushLogs(): Promise<void> {
  await pending;
  if (!backend) return;
  const b = await backend;
  backend = undefined;
  await b.end();
}
