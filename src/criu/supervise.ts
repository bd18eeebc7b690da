/**
 * The supervisor of one CRIU process that must outlive the agent action that started it (a lazy dump serving
 * pages, `criu lazy-pages` fetching them): runs it, and records in a status file when it started and how it
 * ended, so later actions (monitor, stop) know whether every page arrived. Started detached by background.ts:
 *
 *   node supervise.js STATUS_FILE MAX_SECONDS KILL_FILE -- COMMAND [ARGS...]
 *
 * The command runs in its own process group (stopping it kills CRIU, not only the flock around it). After
 * MAX_SECONDS (0: no limit) it is killed: a page server nobody fetches from must not hold the container's memory
 * forever. When it has ended, the process named in KILL_FILE ("-": none), if that file still exists and the
 * process is still alive, is killed: a lazy dump's tree stays frozen until its pages are served and must not
 * wake up when the page server dies instead (the agent removes the file when it wants the tree back).
 * Descriptors 1-3 are passed through to the command (3 carries CRIU's --status-fd when the starter set it up).
 */
import { execa } from 'execa';
import { writeJsonAtomic } from '../util/files.js';
import { readJson } from '../util/files.js';
import { identityOf, isAlive, type ProcessIdentity } from '../util/proc.js';
import type { BackgroundStatus } from './background-status.js';
import { msOfSilence } from '../util/tcp-silence.js';

/**
 * FERRY_STALL_WATCH="ADDRESS PORT MS CONNECT_S" (background.ts StallWatch): polls the served connection once a
 * second; `give up` says why when nobody connected in time, or the connection went silent.
 */
function watchForStall(spec: string | undefined, giveUp: (why: string) => void): NodeJS.Timeout | undefined {
  const [address, port, ms, connectS] = (spec ?? '').split(' ');
  if (!address || ![port, ms, connectS].every((v) => /^\d+$/.test(v ?? ''))) return undefined;
  const began = Date.now();
  let connected = false;
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    msOfSilence('lastack', ['src', address, 'sport', '=', port ?? ''])
      .then((silent) => {
        if (silent !== undefined) connected = true;
        if (silent !== undefined && silent >= Number(ms)) giveUp(`the peer has acknowledged nothing for ${silent} ms (the link is gone)`);
        else if (!connected && Date.now() - began > Number(connectS) * 1000) giveUp(`no peer connected within ${connectS} s`);
      }, () => undefined)
      .finally(() => { busy = false; });
  }, 1000);
}

async function main(argv: string[]): Promise<void> {
  const [statusFile, maxSeconds, killFile, separator, command, ...args] = argv;
  if (!statusFile || !/^\d+$/.test(maxSeconds ?? '') || !killFile || separator !== '--' || !command) {
    process.stderr.write('usage: supervise.js STATUS_FILE MAX_SECONDS KILL_FILE -- COMMAND [ARGS...]\n');
    process.exit(2);
  }
  const startedAt = Date.now();
  const child = execa(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'inherit'], reject: false, detached: true });
  const killGroup = () => { try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  const base: BackgroundStatus = { supervisor: identityOf(process.pid), pid: child.pid, startedAt, command: [command, ...args].join(' ') };
  writeJsonAtomic(statusFile, base);
  // the agent that started us may be killed with its process group; we are in our own session and go on
  process.on('SIGTERM', killGroup);
  const limit = Number(maxSeconds) * 1000;
  const timer = limit > 0 ? setTimeout(killGroup, limit) : undefined;
  const watch = watchForStall(process.env.FERRY_STALL_WATCH, (why) => {
    process.stderr.write(`supervise: ${why}: ending the command\n`);
    killGroup();
  });
  const r = await child;
  if (timer) clearTimeout(timer);
  if (watch) clearInterval(watch);
  const stranded = killFile === '-' ? undefined : readJson<ProcessIdentity>(killFile);
  if (stranded && isAlive(stranded)) process.kill(stranded.pid, 'SIGKILL');
  writeJsonAtomic(statusFile, { ...base, endedAt: Date.now(), exitCode: r.exitCode ?? null, signal: r.signal ?? null });
}

await main(process.argv.slice(2));
