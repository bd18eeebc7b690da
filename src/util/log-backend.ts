/** The winston side of logging: transports chosen as ocf_log chooses its destinations. */
import { execa, Transport, winston } from './third-party.js';
import type { Level, LogSettings } from './log-types.js';

/** winston's syslog level names ("error") and the priorities logger(1) takes ("err"). */
const WINSTON_LEVEL: Record<Level, string> = { err: 'error', warning: 'warning', notice: 'notice', info: 'info', debug: 'debug' };
const SYSLOG_PRIORITY: Record<string, string> = { error: 'err', warning: 'warning', notice: 'notice', info: 'info', debug: 'debug' };

/** Hands each line to logger(1), exactly as ocf_log's ha_log does; fire and forget, never blocks the agent. */
class LoggerCommandTransport extends Transport {
  constructor(private readonly facility: string, private readonly tag: string) { super(); }
  override log(info: { level: string; message: unknown }, next: () => void): void {
    const priority = `${this.facility}.${SYSLOG_PRIORITY[info.level] ?? 'info'}`;
    void execa('logger', ['-t', this.tag, '-p', priority, '--', String(info.message)], { stdio: 'ignore', reject: false, timeout: 5000 })
      .then(() => next(), () => next());
  }
}


function createWinston(s: LogSettings): winston.Logger {
  const transports: Transport[] = [];
  const ordinary = s.debug ? 'debug' : 'info';
  const tagged = winston.format.printf((info) => `${s.tag}: ${String(info.message)}`);
  const stamped = winston.format.printf((info) => `${new Date().toISOString()} ${s.tag}: ${String(info.message)}`);
  if (s.facility) transports.push(new LoggerCommandTransport(s.facility, s.tag.replace(/\[\d+\]$/, '')));
  if (s.logFile) transports.push(new winston.transports.File({ filename: s.logFile, level: ordinary, format: stamped }));
  if (s.debugLog) transports.push(new winston.transports.File({ filename: s.debugLog, level: 'debug', format: stamped }));
  if (s.stderr || transports.length === 0) {
    transports.push(new winston.transports.Console({ level: ordinary, stderrLevels: Object.keys(SYSLOG_PRIORITY), format: tagged }));
  }
  return winston.createLogger({ levels: winston.config.syslog.levels, level: 'debug', transports });
}

export interface Backend { log(level: Level, line: string): void; end(): Promise<void> }

export function createBackend(s: LogSettings): Backend {
  const w = createWinston(s);
  return {
    log: (level, line) => { w.log(WINSTON_LEVEL[level], line); },
    end: () => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      w.on('finish', () => { clearTimeout(timer); resolve(); });
      w.end();
    }),
  };
}
