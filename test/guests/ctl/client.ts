/** Runs one command in a guest through its mux (mux.ts). Never throws for the command's own failure. */
import { connect } from 'node:net';
import { encode, LineSplitter, parseResult, type ClientRequest } from './protocol.js';

export interface GuestExecResult {
  stdout: string;
  stderr: string;
  /** -1 when there is no exit code: killed by a signal (see signal), timed out, or no answer (see error) */
  exitCode: number;
  signal: string | undefined;
  timedOut: boolean;
  /** why the guest gave no result at all (mux unreachable, guest gone, agent restarted) */
  error: string | undefined;
}

export interface GuestExecOptions {
  /** the guest kills the command (its whole process group) after this long; default 120 s */
  timeoutMs?: number;
  /** written to the command's stdin (else /dev/null) */
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
}

/** Beyond the command's own timeout: the answer crossing the serial line, a busy emulated CPU. */
const ANSWER_GRACE_MS = 15_000;

const noAnswer = (error: string, timedOut = false): GuestExecResult =>
  ({ stdout: '', stderr: '', exitCode: -1, signal: undefined, timedOut, error });

export function execInGuest(socketPath: string, argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const req: ClientRequest = {
    op: 'exec',
    argv,
    stdin: opts.input === undefined ? null : Buffer.from(opts.input).toString('base64'),
    timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  };
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    const lines = new LineSplitter();
    let settled = false;
    const done = (r: GuestExecResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    // closing the connection makes the mux kill the command in the guest
    const timer = setTimeout(() => done(noAnswer(`no answer from the guest within ${timeoutMs + ANSWER_GRACE_MS} ms`, true)),
      timeoutMs + ANSWER_GRACE_MS);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(encode(req)));
    sock.on('data', (chunk: string) => {
      const line = lines.feed(chunk)[0];
      if (line === undefined) return;
      const r = parseResult(line);
      if (r === undefined) { done(noAnswer(`unreadable answer from the mux: ${line.slice(0, 200)}`)); return; }
      done({
        stdout: Buffer.from(r.stdout, 'base64').toString('utf8'),
        stderr: Buffer.from(r.stderr, 'base64').toString('utf8'),
        exitCode: r.code ?? -1,
        signal: r.signal ?? undefined,
        timedOut: r.timedOut,
        error: r.error,
      });
    });
    sock.on('error', (e) => done(noAnswer(`cannot reach the guest's control mux at ${socketPath}: ${e.message}`)));
    sock.on('close', () => done(noAnswer('the mux closed the connection without an answer')));
  });
}

/** Polls until the guest answers a trivial command; resolves with the time it took, rejects at the deadline. */
export async function waitForGuest(socketPath: string, timeoutMs: number, alive: () => boolean = () => true): Promise<number> {
  const started = performance.now();
  let last = 'never tried';
  while (performance.now() - started < timeoutMs) {
    if (!alive()) throw new Error(`the guest died while waiting for it (${last})`);
    const r = await execInGuest(socketPath, ['true'], { timeoutMs: Math.min(10_000, timeoutMs) });
    if (r.exitCode === 0) return Math.round(performance.now() - started);
    last = r.error ?? `exit ${r.exitCode}`;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no answer from the guest after ${timeoutMs} ms (${last})`);
}
