/**
 * The one way Ferry runs an external command: execa with an argument array (never a shell string), a timeout
 * bounded by the action's deadline, the command line logged at debug, and errors that explain themselves.
 */
import { logger } from './log.js';
import { currentDeadline } from './deadline.js';
import { childrenOf } from './proc.js';

export interface RunOptions {
  /** Upper bound for this command; the action's deadline bounds it further. */
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /**
   * On timeout or abort, kill the command's descendants too, first: a wrapper (flock) killed alone would leave
   * the real work (CRIU) running on, unseen, after we have given up on it.
   */
  killTree?: boolean;
  /** Ends the command early, as a timeout would (a lazy restore whose pages stopped coming). */
  signal?: AbortSignal;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  signal: string | undefined;
}

/** How a run ended, in words: "exit code 1", "timed out", "killed by SIGKILL". */
export function describeResult(r: Pick<RunResult, 'exitCode' | 'timedOut' | 'signal'>): string {
  return describeEnd(r.exitCode, r.signal, r.timedOut);
}

/** Once the command itself has exited, how long a descendant may keep its output pipes open before we stop reading. */
const PIPE_GRACE_MS = 500;

export class CommandError extends Error {
  constructor(readonly command: string, readonly exitCode: number | undefined, readonly signal: string | undefined,
    readonly stderr: string, readonly timedOut: boolean) {
    super(`${command}: ${describeEnd(exitCode, signal, timedOut)}${stderr ? `: ${lastLines(stderr)}` : ''}`);
  }
}

function describeEnd(exitCode: number | undefined, signal: string | undefined, timedOut: boolean): string {
  if (timedOut) return 'timed out';
  if (signal) return `killed by ${signal}`;
  return `exit code ${exitCode ?? '?'}`;
}

export function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}

/** A shell-quoted rendering for logs, so an admin can replay the command by hand. */
export function renderCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = renderCommand(file, args);
  const timeoutMs = currentDeadline().bound(options.timeoutMs);
  logger.debug(`running: ${command}`);
  // loaded on the first command, not with this module: a monitor that runs none never parses execa or winston
  const { execa } = await import('./third-party.js');
  const subprocess = execa(file, args, {
    reject: false,
    ...(options.killTree ? {} : { timeout: timeoutMs }),
    forceKillAfterDelay: 2000,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stripFinalNewline: true,
  });
  // execa resolves when the output pipes close; a descendant left holding them (a daemon started by the command)
  // must not keep us waiting past the command's own end, nor past its time limit
  subprocess.once('exit', () => {
    setTimeout(() => { subprocess.stdout?.destroy(); subprocess.stderr?.destroy(); }, PIPE_GRACE_MS).unref();
  });
  let killedTree = false;
  const killTree = () => {
    if (killedTree || subprocess.exitCode !== null || subprocess.pid === undefined) return;
    killedTree = true;
    for (const pid of descendantsOf(subprocess.pid).reverse()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    subprocess.kill('SIGKILL');
  };
  const timer = options.killTree && timeoutMs !== undefined ? setTimeout(killTree, timeoutMs) : undefined;
  options.signal?.addEventListener('abort', killTree, { once: true });
  if (options.signal?.aborted) killTree();
  const result = await subprocess;
  if (timer) clearTimeout(timer);
  options.signal?.removeEventListener('abort', killTree);
  if (killedTree) Object.assign(result, { failed: true, timedOut: !options.signal?.aborted });
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  const exitCode = result.exitCode ?? -1;
  if (result.failed && !options.allowFailure) {
    throw new CommandError(command, result.exitCode, result.signal ?? undefined, stderr || (result.cause instanceof Error ? result.cause.message : ''), result.timedOut);
  }
  if (result.failed) logger.debug(`${command}: ${describeEnd(result.exitCode, result.signal ?? undefined, result.timedOut)}`);
  return { command, exitCode, stdout, stderr, timedOut: result.timedOut, signal: result.signal ?? undefined };
}

/** Every descendant of `pid`, parents before children. */
function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  for (const child of childrenOf(pid)) out.push(child, ...descendantsOf(child));
  return out;
}
