/**
 * The per-container directory in state_dir: STATE_DIR/NAME/{migration.json, claim-ID/, images/ID/,
 * last-migration.json}. With storage=shared both nodes see the same one; with storage=none each node has its own
 * and the ferry helper fills the target's images/ID from the source's.
 */
import { accessSync, chmodSync, constants, copyFileSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../util/files.js';

/** Not a CRIU image: CRIU ignores files it does not know in an images directory. */
export const TRAVELLING_RECORD = 'ferry-record.json';

export class StateStore {
  readonly root: string;

  constructor(stateDir: string, name: string) {
    this.root = join(stateDir, name);
  }

  recordPath(): string { return join(this.root, 'migration.json'); }
  claimPath(id: string): string { return join(this.root, `claim-${id}`); }
  imagesDir(id: string): string { return join(this.root, 'images', id); }
  imagesRoot(): string { return join(this.root, 'images'); }
  /** The record that travels with streamed images, so the target knows what it received. */
  travellingRecordPath(id: string): string { return join(this.imagesDir(id), TRAVELLING_RECORD); }
  statsPath(): string { return join(this.root, 'last-migration.json'); }

  /** CRIU's log of a failed run is the admin's best clue; it outlives removed images (0600, no memory in it). */
  keepFailureLog(id: string, log: string): void {
    try {
      copyFileSync(join(this.imagesDir(id), log), join(this.root, `last-failed-${log}`));
      chmodSync(join(this.root, `last-failed-${log}`), 0o600);
    } catch { /* CRIU may have failed before writing it */ }
  }

  ensure(): void {
    ensurePrivateDir(this.root);
    ensurePrivateDir(this.imagesRoot());
  }
}

/** Why state_dir cannot be used on this node, or undefined when it can (exists, is a directory, writable). */
export function stateDirProblem(stateDir: string): string | undefined {
  try {
    if (!statSync(stateDir).isDirectory()) return `state_dir ${stateDir} is not a directory`;
    accessSync(stateDir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `state_dir ${stateDir} does not exist on this node (is the shared storage mounted?)`;
    return `state_dir ${stateDir} is not usable: ${code ?? String(err)}`;
  }
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}
