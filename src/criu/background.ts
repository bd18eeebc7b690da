/**
 * Starting CRIU processes that outlive the action that started them. A lazy migration leaves two: on the source
 * the dump, which keeps serving the pages it did not write until the target has them all; on the target
 * `criu lazy-pages`, which fetches them. Each runs under supervise.js in its own session (Pacemaker's kill of
 * the agent's process group at a timeout does not reach it) and leaves a status file (background-status.ts).
 */
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from '../util/third-party.js';
import { ensurePrivateDir, removeQuietly } from '../util/files.js';
import { packageRoot } from '../util/package-root.js';
import { runDir } from '../util/run-dir.js';
import { lazyDir, outputPath, statusPath, type BackgroundRole } from './background-status.js';

/**
 * The supervisor ends the command when no peer has connected to its page server on `address`:`port` within
 * `connectWithinS`, or when the connection has had no acknowledgement from the peer for `ms` (the link is gone:
 * TCP alone would wait some 15 minutes). A transfer that goes on is never cut short.
 */
export interface StallWatch { address: string; port: number; ms: number; connectWithinS: number }

export interface Started {
  /** The readable end of the command's descriptor 3 (CRIU's --status-fd), when asked for. */
  statusStream: NodeJS.ReadableStream | undefined;
  /** Resolves when the supervisor exits (that is, when the command has ended). */
  ended: Promise<unknown>;
  /** Lets this process exit while the background command goes on. */
  release(): void;
}

/** Starts `file args` under the supervisor, detached; the caller must `release` it before exiting. */
export function startBackground(name: string, role: BackgroundRole, command: { file: string; args: readonly string[] },
  o: { withStatusFd: boolean; maxSeconds: number; killAfter?: string; stallWatch?: StallWatch }): Started {
  ensurePrivateDir(runDir());
  ensurePrivateDir(lazyDir());
  removeQuietly(statusPath(name, role));
  // a descriptor, not a pipe: the command must keep writing after this process is gone. execa accepts any
  // descriptor number at run time, but its types only list 3-9
  const out = openSync(outputPath(name, role), 'w', 0o600) as 3;
  try {
    const supervisor = join(packageRoot(), 'dist', 'src', 'criu', 'supervise.js');
    const ended = execa(process.execPath, [supervisor, statusPath(name, role), String(o.maxSeconds), o.killAfter ?? '-', '--', command.file, ...command.args], {
      detached: true, cleanup: false, reject: false,
      env: { NODE_OPTIONS: '', ...(o.stallWatch ? { FERRY_STALL_WATCH: `${o.stallWatch.address} ${o.stallWatch.port} ${o.stallWatch.ms} ${o.stallWatch.connectWithinS}` } : {}) },
      stdio: ['ignore', out, out, o.withStatusFd ? 'pipe' : 'ignore'],
    });
    const statusStream = o.withStatusFd ? (ended.stdio[3] as NodeJS.ReadableStream & { destroy(): void }) : undefined;
    ended.catch(() => undefined);
    return {
      statusStream,
      ended,
      release: () => { statusStream?.destroy(); ended.unref(); },
    };
  } finally {
    closeSync(out);
  }
}
