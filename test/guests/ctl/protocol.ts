/**
 * The guest lab's control channel: one JSON object per line on each guest's second serial port (ttyS1), which
 * QEMU exposes as a unix socket on the host. The guest end is test/guests/image/agent.py; on the host one mux
 * per guest (mux.ts) owns that socket and lets any number of clients (client.ts) run commands concurrently.
 *
 *   host -> guest   {"op":"hello"}                       the agent answers with "ready"
 *                   {"op":"exec","id":7,"argv":[...],"stdin":BASE64|null,"timeout":SECONDS,"env":{},"cwd":"/"}
 *                   {"op":"kill","id":7}                 SIGKILL the command's process group
 *   guest -> host   {"op":"ready","hostname":"guest1","uptime":9.3,"pid":120}   on start and on hello
 *                   {"op":"result","id":7,"code":0|null,"signal":"SIGKILL"|null,"stdout":BASE64,"stderr":BASE64,
 *                    "timedOut":false}
 * A client sends the mux an exec without "id" and gets the result line back (with "error" set when the mux
 * itself could not get one: guest gone, agent restarted).
 */

export interface ExecMessage {
  op: 'exec';
  id: number;
  argv: string[];
  stdin: string | null;
  /** seconds; the agent kills the command's process group after that */
  timeout: number;
  env?: Record<string, string>;
  cwd?: string;
}
export type ClientRequest = Omit<ExecMessage, 'id'>;
export type ToGuest = ExecMessage | { op: 'kill'; id: number } | { op: 'hello' };

export interface ReadyMessage { op: 'ready'; hostname: string; uptime: number; pid: number }
export interface ResultMessage {
  op: 'result';
  id: number;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** set by the mux, never by the guest: why there is no real result */
  error?: string;
}
export type FromGuest = ReadyMessage | ResultMessage;

export const encode = (msg: ToGuest | FromGuest | ClientRequest): string => `${JSON.stringify(msg)}\n`;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A guest's line, or undefined for anything else (the tty's echo before the agent ran, boot noise). */
export function parseFromGuest(line: string): FromGuest | undefined {
  const m = parseJson(line);
  if (m?.op === 'ready' && typeof m.hostname === 'string' && typeof m.uptime === 'number' && typeof m.pid === 'number') {
    return { op: 'ready', hostname: m.hostname, uptime: m.uptime, pid: m.pid };
  }
  return m?.op === 'result' ? parseResult(m) : undefined;
}

export function parseResult(m: Record<string, unknown> | string): ResultMessage | undefined {
  const r = typeof m === 'string' ? parseJson(m) : m;
  if (r?.op !== 'result' || typeof r.id !== 'number' || typeof r.stdout !== 'string' || typeof r.stderr !== 'string') return undefined;
  return {
    op: 'result',
    id: r.id,
    code: typeof r.code === 'number' ? r.code : null,
    signal: typeof r.signal === 'string' ? r.signal : null,
    stdout: r.stdout,
    stderr: r.stderr,
    timedOut: r.timedOut === true,
    ...(typeof r.error === 'string' ? { error: r.error } : {}),
  };
}

export function parseClientRequest(line: string): ClientRequest | undefined {
  const m = parseJson(line);
  if (m?.op !== 'exec' || !isStringArray(m.argv) || m.argv.length === 0 || typeof m.timeout !== 'number') return undefined;
  const env = isRecord(m.env) && Object.values(m.env).every((v) => typeof v === 'string')
    ? (m.env as Record<string, string>) : undefined;
  return {
    op: 'exec',
    argv: m.argv,
    stdin: typeof m.stdin === 'string' ? m.stdin : null,
    timeout: m.timeout,
    ...(env ? { env } : {}),
    ...(typeof m.cwd === 'string' ? { cwd: m.cwd } : {}),
  };
}

/** Splits a byte stream into lines; feed() returns the complete ones. */
export class LineSplitter {
  private rest = '';
  feed(chunk: Buffer | string): string[] {
    const lines = (this.rest + chunk.toString('utf8')).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
  }
}
