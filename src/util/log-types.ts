/** What the logging front (log.ts) and its winston back end (log-backend.ts) share. */
export type Level = 'err' | 'warning' | 'notice' | 'info' | 'debug';

export interface LogSettings {
  tag: string;
  facility: string | undefined;
  logFile: string | undefined;
  debugLog: string | undefined;
  debug: boolean;
  /** Also write to stderr even when syslog or a file is configured (the CLI on a terminal). */
  stderr: boolean;
}
