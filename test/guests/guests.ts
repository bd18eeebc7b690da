/**
 * Drives the QEMU guest lab (test/guests/guests.sh) from tap tests, as test/lab/lab.ts drives the namespace lab.
 *
 * Setup and teardown go through guests.sh, so the layout lives in one place; commands in a guest go straight to
 * the guest's control mux (ctl/client.ts), argument vectors only. guestExec never throws on a non-zero exit
 * (tests look at exitCode); mustGuest is the throwing convenience.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execInGuest, type GuestExecOptions, type GuestExecResult } from './ctl/client.js';
import { REPO } from '../lab/lab.js';

export type GuestId = 1 | 2;
export const GUEST_IDS: readonly GuestId[] = [1, 2];
export type { GuestExecOptions, GuestExecResult };

// from the repository, not from this file: benchmarks run the compiled copy under dist/
export const GUESTS_SH = join(REPO, 'test', 'guests', 'guests.sh');
export const GUESTS_DIR = process.env.FERRY_GUESTS_DIR ?? '/tmp/ferry-guests';
/** The 9p directory every guest mounts at /shared (stands in for shared storage). */
export const SHARED_DIR = join(GUESTS_DIR, 'shared');
export const guestName = (n: GuestId): string => `guest${n}`;
export const backChannelAddress = (n: GuestId): string => `10.81.0.${n}`;
export const migrationAddress = (n: GuestId): string => `10.82.0.${n}`;

export interface ShResult { stdout: string; stderr: string; exitCode: number; timedOut: boolean }

/** A failed guest-lab command: a one-line message (tap prints it on the "not ok" line) plus its full output. */
export class GuestLabError extends Error {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  constructor(what: string, r: { stdout: string; stderr: string; exitCode: number; timedOut: boolean; error?: string | undefined }) {
    const how = r.error ?? (r.timedOut ? 'timed out' : `exited ${r.exitCode}`);
    const firstLine = r.stderr.split('\n').find((l) => l.trim() !== '') ?? '';
    super(`${what} ${how}${firstLine ? `: ${firstLine}` : ''}`);
    this.name = 'GuestLabError';
    this.stdout = r.stdout;
    this.stderr = r.stderr;
    this.exitCode = r.exitCode;
  }
}

async function guestsSh(args: string[], timeoutMs: number): Promise<ShResult> {
  // tap puts its loader in NODE_OPTIONS for every child; the muxes guests.sh starts are plain node programs
  const r = await execa('env', ['-u', 'NODE_OPTIONS', 'sh', GUESTS_SH, ...args], {
    reject: false, timeout: timeoutMs, stdin: 'ignore',
  });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1, timedOut: r.timedOut };
}

async function mustSh(args: string[], timeoutMs: number): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  const r = await guestsSh(args, timeoutMs);
  if (r.exitCode !== 0) throw new GuestLabError(`guests.sh ${args.join(' ')}`, r);
  return { ms: Math.round(performance.now() - started), output: r.stdout };
}

/**
 * Boots both guests from scratch (removing leftovers first), installs Ferry in them and, unless cluster is false,
 * starts the cluster; resolves when both nodes are online. Builds the image first if it is not cached.
 */
export async function guestsUp(opts: { cluster?: boolean; timeoutMs?: number } = {}): Promise<{ ms: number; output: string }> {
  return mustSh(['up', ...(opts.cluster === false ? ['--no-cluster'] : [])], opts.timeoutMs ?? 1_800_000);
}

/** Stops and removes everything the guest lab made. Idempotent. */
export async function guestsDown(): Promise<void> {
  await mustSh(['down'], 60_000);
}

export async function clusterUp(): Promise<{ ms: number; output: string }> {
  return mustSh(['cluster-up'], 300_000);
}

/** DRBD r0 on both guests' second disks, synced, ext4 on it, Secondary on both. */
export async function drbdUp(): Promise<{ ms: number; output: string }> {
  return mustSh(['drbd-up'], 600_000);
}

export async function guestsStatus(): Promise<string> {
  return (await guestsSh(['status'], 60_000)).stdout;
}

/** Runs argv as root in guest N. Never throws on a non-zero exit; `error` says when there was no answer at all. */
export function guestExec(n: GuestId, argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
  return execInGuest(join(GUESTS_DIR, guestName(n), 'exec.sock'), argv, opts);
}

/** Runs argv in guest N and returns its stdout; throws GuestLabError on a non-zero exit. */
export async function mustGuest(n: GuestId, argv: string[], opts: GuestExecOptions = {}): Promise<string> {
  const r = await guestExec(n, argv, opts);
  if (r.exitCode !== 0) throw new GuestLabError(`${argv.join(' ')} in ${guestName(n)}`, r);
  return r.stdout;
}

/** Names of the nodes crm_mon in guest N reports online. */
export async function onlineNodes(n: GuestId): Promise<string[]> {
  const xml = await mustGuest(n, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 60_000 });
  return [...xml.matchAll(/<node name="([^"]+)"[^>]*\sonline="true"/g)].map((m) => m[1] ?? '');
}

/** The tail of guest N's console (kernel messages, the init's lines). */
export function consoleLog(n: GuestId, lines = 50): string {
  const f = join(GUESTS_DIR, guestName(n), 'console.log');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n') : `(no console log at ${f})`;
}

/** Live processes whose command line names the lab directory (QEMU, the muxes): none once the lab is down. */
export function labProcesses(): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmdline.includes(`${GUESTS_DIR}/`)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Between two scenarios of the guest stage: every resource stopped and out of the CIB with its constraints and
 * history, no maintenance, DRBD r0 down on both guests with nothing mounted, no test fault left (CRIU wrapper,
 * cut link). The next scenario then starts from a booted cluster as if it had booted it itself.
 */
export async function resetCluster(): Promise<void> {
  const resources = await mustGuest(1, ['cibadmin', '--query', '--scope', 'resources'], { timeoutMs: 60_000 });
  const ids = [...resources.matchAll(/<primitive id="([^"]+)"/g)].map((m) => m[1] ?? '');
  await guestExec(1, ['crm_attribute', '--name', 'maintenance-mode', '--delete'], { timeoutMs: 60_000 });
  for (const id of ids) {
    await guestExec(1, ['crm_resource', '--resource', id, '--meta', '--delete-parameter', 'maintenance'], { timeoutMs: 60_000 });
    await mustGuest(1, ['crm_resource', '--resource', id, '--meta', '--set-parameter', 'target-role', '--parameter-value', 'Stopped'], { timeoutMs: 60_000 });
  }
  await waitForIdle(600_000);
  await mustGuest(1, ['cibadmin', '--replace', '--scope', 'constraints', '--xml-text', '<constraints/>'], { timeoutMs: 60_000 });
  await mustGuest(1, ['cibadmin', '--replace', '--scope', 'resources', '--xml-text', '<resources/>'], { timeoutMs: 60_000 });
  await guestExec(1, ['crm_resource', '--cleanup'], { timeoutMs: 120_000 });
  await waitForIdle(300_000);
  await Promise.all(GUEST_IDS.map((n) => mustGuest(n, ['sh', '-c',
    'umount /srv/drbd 2>/dev/null; drbdadm down r0 2>/dev/null; nft delete table inet ferry_test_cut 2>/dev/null; rm -rf /run/ferry-fault; true'],
  { timeoutMs: 120_000 })));
}

/** Until crm_mon shows no active resource and the cluster has nothing left to do. */
async function waitForIdle(timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const xml = await mustGuest(1, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 60_000 });
    const active = /<resource [^>]*active="true"/.test(xml);
    const idle = (await guestExec(1, ['crm_resource', '--wait', '--timeout', '5s'], { timeoutMs: 30_000 })).exitCode === 0;
    if (!active && idle) return;
    if (Date.now() > until) throw new Error(`the guest cluster did not settle with nothing running in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
