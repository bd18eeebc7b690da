/**
 * Lazy (post-copy) migration. The source's dump writes everything but the memory, then keeps running as a page
 * server; the target restores at once and `criu lazy-pages` fetches the memory, on fault and in the background.
 * Until the last page has arrived the container lives on both nodes at once: its tasks on the target, part of its
 * memory on the source. So:
 *   - the source's page server outlives migrate_to (background.ts) and the source's stop waits for it to finish;
 *   - the target's monitor watches lazy-pages: if it fails, the restored memory is incomplete and the container
 *     is reported failed (a missing page would otherwise read as zeros, silently);
 *   - a lazy checkpoint can be restored once: a failed lazy restore consumed the page server's only session.
 */
import { createServer } from 'node:net';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lazyDumpArgs, lazyPagesArgs, type PageServerAddress } from '../criu/args.js';
import { startBackground } from '../criu/background.js';
import { backgroundState, forgetBackground, lazyDir, readBackground, outputPath, type BackgroundRole } from '../criu/background-status.js';
import { CriuError, criuLogTail, LOCK_BUSY, LOCK_BUSY_REASON, readLog } from '../criu/criu.js';
import { parseDumpStats, parsePagemapGenerated, type DumpStats } from '../criu/stats.js';
import type { NetworkLock } from '../criu/args.js';
import { run } from '../util/run.js';
import { ensurePrivateDir, readJson, removeQuietly, writeJsonAtomic } from '../util/files.js';
import { identityOf, isAlive, type ProcessIdentity } from '../util/proc.js';
import { runDir } from '../util/run-dir.js';
import type { EngineContext } from './context.js';
import type { Deadline } from '../util/deadline.js';
import { lookup } from 'node:dns/promises';
import { logger } from '../util/log.js';
import type { TransferPath } from './transfer.js';
import type { PeerView } from './peer.js';

/**
 * Pages stream continuously until the last one is in: this long without a byte from the other side (no data on the
 * target, no acknowledgement on the source) means the link is gone (TCP would hold the connection some 15
 * minutes), not a slow peer. Both ends then give up: the target's monitor fails, the source's page server ends
 * and the frozen tree it held dies with it.
 */
export const LAZY_STALL_MS = 10_000;

/** This node's address on the route to `peerAddress`: where the target's lazy-pages can reach the page server. */
export async function localAddressTowards(peerAddress: string): Promise<string | undefined> {
  const r = await run('ip', ['-j', 'route', 'get', peerAddress], { allowFailure: true, timeoutMs: 5000 });
  if (r.exitCode !== 0) return undefined;
  return (JSON.parse(r.stdout) as { prefsrc?: string }[])[0]?.prefsrc;
}

/** A port free on `address` right now (CRIU binds it a moment later; a race there fails the dump, safely). */
export function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const STATUS_FD = 3;

/**
 * Starts the lazy dump in the background and returns once its images are written and it serves pages, with the
 * dump's page figures from its log and when CRIU itself started (the supervisor's start before it takes seconds
 * on a slow node, with the container still running: that is not downtime); throws when it ends before that
 * (CRIU then has resumed the container, as after any failed dump).
 */
export async function startLazyDump(ctx: EngineContext,
  request: { pid: number; imagesDir: string; networkLock: NetworkLock; runtimeOptions?: readonly string[]; serve: PageServerAddress; parentDir?: string | undefined },
  deadline: Deadline): Promise<{ dumpStats: DumpStats; criuStartedAt: number | undefined }> {
  const limitMs = deadline.bound() ?? 600_000;
  const args = lazyDumpArgs({ ...request, statusFd: STATUS_FD });
  const tree = identityOf(request.pid);
  if (!tree) throw new Error(`process ${request.pid} is gone`);
  ensurePrivateDir(lazyDir());
  // the supervisor kills the tree named there when the page server ends: only once the dump is complete and the
  // tree frozen for good. Before that a failed dump resumes the tree, and it must live on (as after any failed dump)
  removeQuietly(treePath(ctx.config.name));
  // the node's CRIU lock for the dump only: the page server that follows may serve for minutes (finding: every
  // other dump or restore on this node, and the recovery start here, waited for it)
  const releaseLock = await ctx.criu.holdNodeLock(limitMs);
  let started: ReturnType<typeof startBackground>;
  try {
    // no time limit once serving: the supervisor ends it when the target does not connect in time or stops acknowledging
    started = startBackground(ctx.config.name, 'page-server', { file: ctx.criu.binary, args },
      { withStatusFd: true, maxSeconds: 0, killAfter: treePath(ctx.config.name),
        stallWatch: { ...request.serve, ms: LAZY_STALL_MS, connectWithinS: Math.max(60, ctx.config.checkpoint_max_age) } });
  } catch (err) {
    releaseLock();
    throw err;
  }
  const outcome = await new Promise<'ready' | 'ended' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), limitMs);
    started.statusStream?.once('data', () => { clearTimeout(timer); resolve('ready'); });
    started.ended.then(() => { clearTimeout(timer); resolve('ended'); }, () => { clearTimeout(timer); resolve('ended'); });
  });
  releaseLock();
  if (outcome === 'ready') {
    writeJsonAtomic(treePath(ctx.config.name), tree);
    started.release();
    return {
      dumpStats: { ...parseDumpStats(''), ...parsePagemapGenerated(readLog(request.imagesDir, 'dump.log')) },
      criuStartedAt: readBackground(ctx.config.name, 'page-server')?.startedAt,
    };
  }
  if (outcome === 'timeout') await stopBackground(ctx.config.name, 'page-server');
  started.release();
  throw lazyFailure(ctx.config.name, 'page-server', 'dump', request.imagesDir, 'dump.log', outcome === 'timeout' ? 'timed out' : undefined);
}

function lazyFailure(name: string, role: BackgroundRole, op: string, dir: string, log: string, how?: string): CriuError {
  const state = backgroundState(readBackground(name, role));
  const status = readBackground(name, role);
  if (status?.exitCode === LOCK_BUSY) return new CriuError(op, LOCK_BUSY, 'not started', LOCK_BUSY_REASON);
  const tail = criuLogTail(readLog(dir, log)) || criuLogTail(readOutput(name, role));
  return new CriuError(op, status?.exitCode ?? -1, how ?? (state.state === 'failed' ? state.how : 'ended early'), tail);
}

function readOutput(name: string, role: BackgroundRole): string {
  try {
    return readFileSync(outputPath(name, role), 'utf8');
  } catch {
    return '';
  }
}

/** The frozen tree of a lazy dump, which the page server's supervisor kills if the page server ends first. */
const treePath = (name: string) => join(lazyDir(), `${name}.tree.json`);

/**
 * After the page server has ended: its frozen tree must not wake up here (the supervisor kills it, but it may have
 * died with the page server). CRIU kills it itself after serving every page, so normally nothing is left.
 */
export function killStrandedTree(name: string): boolean {
  let tree: ProcessIdentity | undefined;
  try {
    tree = readJson<ProcessIdentity>(treePath(name));
  } catch { /* unreadable: nothing to go by */ }
  removeQuietly(treePath(name));
  if (!tree || !isAlive(tree)) return false;
  process.kill(tree.pid, 'SIGKILL');
  return true;
}

/** Gives the source its tree back: CRIU's death releases the frozen tasks, which then run on. */
export async function abandonLazyDump(name: string): Promise<void> {
  removeQuietly(treePath(name));
  await stopBackground(name, 'page-server');
  forgetBackground(name, 'page-server');
}

/** Kills a background CRIU process group through its supervisor (which records how it ended). */
export async function stopBackground(name: string, role: BackgroundRole): Promise<void> {
  const status = readBackground(name, role);
  if (status?.pid && backgroundState(status).state === 'running') {
    try { process.kill(-status.pid, 'SIGKILL'); } catch { /* already gone */ }
    const until = Date.now() + 3000;
    while (backgroundState(readBackground(name, role)).state === 'running' && Date.now() < until) await sleep(50);
  }
}

export function lazyWorkDir(name: string): string {
  return join(runDir(), 'lazy', `${name}.work`);
}

/**
 * On the restoring node: starts `criu lazy-pages` towards the source's page server and returns once its socket
 * is there for `criu restore --lazy-pages`.
 */
export async function startLazyPages(ctx: EngineContext, imagesDir: string, from: PageServerAddress, deadline: Deadline): Promise<string> {
  const { name } = ctx.config;
  const workDir = lazyWorkDir(name);
  rmSync(workDir, { recursive: true, force: true });
  ensurePrivateDir(join(runDir(), 'lazy'));
  ensurePrivateDir(workDir);
  const started = startBackground(name, 'lazy-pages', { file: ctx.config.criu_binary, args: lazyPagesArgs({ imagesDir, workDir, from }) },
    { withStatusFd: false, maxSeconds: 0 });
  started.release();
  // bounded by the restore's own deadline only: a fixed bound (it was 15 s) failed on a slow node (QEMU TCG here:
  // criu lazy-pages under its Node.js supervisor took longer to make its socket), and a failed lazy restore
  // spends the page server's only session
  const until = Date.now() + deadline.remainingMs();
  for (;;) {
    if (existsSync(join(workDir, 'lazy-pages.socket'))) return workDir;
    const state = backgroundState(readBackground(name, 'lazy-pages'));
    if (state.state === 'failed' || state.state === 'succeeded' || Date.now() > until) {
      await stopBackground(name, 'lazy-pages');
      throw lazyFailure(name, 'lazy-pages', 'lazy-pages', workDir, 'lazy-pages.log', Date.now() > until ? 'no socket in time' : undefined);
    }
    await sleep(10);
  }
}

/** Where the pages of a lazy restore on this node stand; `failed` means the container's memory is incomplete. */
export function lazyPagesProgress(name: string): { state: 'none' | 'running' | 'succeeded' } | { state: 'failed'; why: string } {
  const s = backgroundState(readBackground(name, 'lazy-pages'));
  if (s.state !== 'failed') return s;
  return { state: 'failed', why: `${s.how}${criuLogTail(readLog(lazyWorkDir(name), 'lazy-pages.log')) ? `: ${criuLogTail(readLog(lazyWorkDir(name), 'lazy-pages.log'))}` : ''}` };
}

/** An abort signal raised when this node's lazy-pages daemon fails (polled: it is a file the supervisor writes). */
export function watchLazyPages(name: string): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const timer = setInterval(() => {
    if (lazyPagesProgress(name).state === 'failed') controller.abort();
  }, 100);
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

/** On the source: waits (until `deadline`) for the page server to end; how it ended, or 'running'. */
export async function waitPageServer(name: string, deadline: Deadline): Promise<'none' | 'running' | 'succeeded' | string> {
  for (;;) {
    const s = backgroundState(readBackground(name, 'page-server'));
    if (s.state === 'none' || s.state === 'succeeded') return s.state;
    if (s.state === 'failed') return s.how;
    if (deadline.remainingMs() < 200) return 'running';
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Where this node's page server will listen so that the target reaches it, or what is missing for that. */
export async function pageServerAddress(peer: PeerView, path: TransferPath | undefined, requireMigrationNetwork: boolean):
  Promise<PageServerAddress | { problem: string }> {
  const { target, choice } = peer;
  let targetAddress = path?.peer.host ?? (choice?.decision.ok ? choice.decision.address : undefined);
  if (!targetAddress && choice && !choice.decision.ok && requireMigrationNetwork) return { problem: choice.decision.reason };
  if (!targetAddress) {
    try {
      targetAddress = (await lookup(target)).address;
      logger.info(`lazy pages to ${target} go over the back-channel (${targetAddress}): ${peer.problem ?? 'no migration network answered'}`);
    } catch (err) {
      return { problem: `an address of ${target} (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
    }
  }
  const address = await localAddressTowards(targetAddress);
  if (!address) return { problem: `a local address routed towards ${target} (${targetAddress})` };
  return { address, port: await freePort(address) };
}
