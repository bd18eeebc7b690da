/**
 * guests.sh's control-channel tool (bundled by esbuild into the lab directory as ctl.mjs):
 *   mux SERIAL_SOCKET LISTEN_SOCKET              serve one guest (see mux.ts); logs to stderr
 *   exec SOCKET TIMEOUT_S [--stdin] -- CMD...    run CMD in the guest; its stdout/stderr, its exit code
 *                                                (124 timed out, 128+n killed by signal n, 125 no answer)
 *   wait SOCKET TIMEOUT_S [QEMU_PID]             until the guest answers; prints the time it took
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { execInGuest, waitForGuest } from './client.js';
import { runMux } from './mux.js';

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function usage(): never {
  process.stderr.write('usage: ctl mux SERIAL LISTEN | exec SOCKET TIMEOUT_S [--stdin] -- CMD... | wait SOCKET TIMEOUT_S [PID]\n');
  process.exit(2);
}

function seconds(s: string | undefined): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) usage();
  return n;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exec(args: string[]): Promise<number> {
  const [socket, timeout, ...rest] = args;
  const dash = rest.indexOf('--');
  if (socket === undefined || dash < 0 || dash === rest.length - 1) usage();
  const input = rest.slice(0, dash).includes('--stdin') ? readFileSync(0) : undefined;
  const r = await execInGuest(socket, rest.slice(dash + 1), {
    timeoutMs: seconds(timeout) * 1000, ...(input ? { input } : {}),
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.error) { process.stderr.write(`guests: ${r.error}\n`); return r.timedOut ? 124 : 125; }
  if (r.timedOut) { process.stderr.write(`guests: timed out after ${timeout} s (killed in the guest)\n`); return 124; }
  if (r.signal) return 128 + (constants.signals[r.signal as keyof typeof constants.signals] ?? 0);
  return r.exitCode;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'mux': {
      const [serial, listen] = args;
      if (serial === undefined || listen === undefined) usage();
      await runMux({ serialSocket: serial, listen, connectTimeoutMs: 30_000, log });
      return 0;
    }
    case 'exec':
      return exec(args);
    case 'wait': {
      const [socket, timeout, pid] = args;
      if (socket === undefined) usage();
      const ms = await waitForGuest(socket, seconds(timeout) * 1000, pid === undefined ? undefined : () => alive(Number(pid)));
      process.stdout.write(`${ms}\n`);
      return 0;
    }
    default:
      return usage();
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`guests: ${e instanceof Error ? e.message : String(e)}\n`); process.exitCode = 1; },
);
