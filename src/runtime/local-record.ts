/**
 * The node-local record of a container running on this node, kept in a tmpfs (/run/ferry), so it disappears with
 * a reboot exactly like the container does. It pins the container's identity: init PID plus its start time and
 * PID namespace, never a bare PID.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, readJson, removeQuietly, writeJsonAtomic } from '../util/files.js';
import { runDir } from '../util/run-dir.js';

export interface LocalRecord {
  name: string;
  pid: number;
  startTime: number;
  pidNamespace: string;
  hostInterface: string | undefined;
  /** How the container came to run here. */
  origin: 'start' | 'restore';
  since: string;
  /** Where its migrations are recorded (for `ferry status`), when it has a state_dir. */
  stateDir?: string | undefined;
}

/** Written just before a restore, so a probe after an interrupted restore can still find what CRIU created. */
export interface RestoreIntent {
  name: string;
  pidFile: string;
  /** Written by CRIU's action script as soon as the tree's root task exists (src/criu/restore-hook.ts). */
  rootPidFile?: string;
  migrationId: string;
  since: string;
  /**
   * When the restore began in clock ticks since boot (as /proc/PID/stat counts a process's start): what a tree is
   * told apart by, since a wall clock stepped back (NTP, an admin) would make the real tree look older than this.
   */
  bootTicks?: number;
}

/** Records and restore intents in separate directories, so no container name can collide with another's file. */
export const recordsDir = () => join(runDir(), 'containers');
const intentsDir = () => join(runDir(), 'restoring');
const recordPath = (name: string) => join(recordsDir(), `${name}.json`);
const intentPath = (name: string) => join(intentsDir(), `${name}.json`);

export function readLocalRecord(name: string): LocalRecord | undefined {
  return readJson<LocalRecord>(recordPath(name));
}

export function writeLocalRecord(record: LocalRecord): void {
  ensurePrivateDir(runDir());
  ensurePrivateDir(recordsDir());
  writeJsonAtomic(recordPath(record.name), record);
}

export function removeLocalRecord(name: string): void {
  removeQuietly(recordPath(name));
}

export function readRestoreIntent(name: string): RestoreIntent | undefined {
  return readJson<RestoreIntent>(intentPath(name));
}

export function writeRestoreIntent(intent: RestoreIntent): void {
  ensurePrivateDir(runDir());
  ensurePrivateDir(intentsDir());
  writeJsonAtomic(intentPath(intent.name), intent);
}

/**
 * The root pid of the tree an interrupted restore left, if CRIU got as far as making one: its pidfile, else the
 * pid its action script wrote early. Callers still check that the process is that tree (born after the intent).
 */
export function restoredRootPid(intent: RestoreIntent): number | undefined {
  for (const file of [intent.pidFile, intent.rootPidFile]) {
    if (!file) continue;
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
  }
  return undefined;
}

export function removeRestoreIntent(name: string): void {
  removeQuietly(intentPath(name));
}
