/**
 * The status of CRIU processes that outlive the action that started them (started by background.ts); read by
 * monitor, so nothing here loads more than node's own modules. A lazy migration leaves two: on the source the dump,
 * which keeps serving the pages it did not write until the target has them all; on the target `criu lazy-pages`,
 * which fetches them. Each runs under supervise.js in its own session (Pacemaker's kill of the agent's process
 * group at a timeout does not reach it) and leaves a status file in /run/ferry/lazy saying how it ended.
 */
import { join } from 'node:path';
import { readJson, removeQuietly } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { isAlive, type ProcessIdentity } from '../util/proc.js';

export type BackgroundRole = 'page-server' | 'lazy-pages';

export interface BackgroundStatus {
  /** Identity, not a bare PID: a reused PID must not look like a page server still at work. */
  supervisor: ProcessIdentity | undefined;
  pid: number | undefined;
  startedAt: number;
  command: string;
  endedAt?: number;
  exitCode?: number | null;
  signal?: string | null;
}

export const lazyDir = () => join(runDir(), 'lazy');
export const statusPath = (name: string, role: BackgroundRole) => join(lazyDir(), `${name}.${role}.json`);
export const outputPath = (name: string, role: BackgroundRole) => join(lazyDir(), `${name}.${role}.out`);

export function readBackground(name: string, role: BackgroundRole): BackgroundStatus | undefined {
  try {
    return readJson<BackgroundStatus>(statusPath(name, role));
  } catch {
    return undefined;
  }
}

export function forgetBackground(name: string, role: BackgroundRole): void {
  removeQuietly(statusPath(name, role));
  removeQuietly(outputPath(name, role));
}

/** 'running' (its supervisor is alive and it has not ended), 'succeeded', 'failed' (with how), or 'none'. */
export function backgroundState(status: BackgroundStatus | undefined):
  { state: 'none' } | { state: 'running' } | { state: 'succeeded' } | { state: 'failed'; how: string } {
  if (!status) return { state: 'none' };
  if (status.endedAt === undefined) {
    return status.supervisor && isAlive(status.supervisor) ? { state: 'running' } : { state: 'failed', how: 'its supervisor died' };
  }
  if (status.exitCode === 0) return { state: 'succeeded' };
  return { state: 'failed', how: status.signal ? `killed by ${status.signal}` : `exit ${status.exitCode ?? '?'}` };
}

