/**
 * CRIU's action script for restores. CRIU writes its --pidfile only at the very end of a restore, after the
 * restored tree has lost the parent-death signal that kills it along with CRIU: an agent killed in between
 * (Pacemaker's timeout kills its whole process group, CRIU with it) left a tree running that no pidfile named, so
 * the probe said "not running", the stop left it and the next start made a second copy (#14 finding 8). At
 * setup-namespaces CRIU has made the tree's root task and tells the script its pid: the script writes it to the
 * file Ferry names, and whatever happens to CRIU after that, the tree can be found.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../util/files.js';
import { runDir } from '../util/run-dir.js';

/** CRIU passes its environment to its action scripts: this variable names the file for the root task's pid. */
export const ROOT_PID_FILE_ENV = 'FERRY_RESTORE_ROOT_PID_FILE';

// A failed write fails the restore (non-zero exit): a restore that could not be found after a kill must not run.
const SCRIPT = `#!/bin/sh
# Written by Ferry (src/criu/restore-hook.ts). CRIU runs it at every step of a restore; at setup-namespaces the
# restored tree's root task exists, and its pid goes to the file Ferry named in ${ROOT_PID_FILE_ENV}.
[ "$CRTOOLS_SCRIPT_ACTION" = setup-namespaces ] || exit 0
f=\${${ROOT_PID_FILE_ENV}:-}
[ -n "$f" ] || exit 0
echo "$CRTOOLS_INIT_PID" > "$f.tmp" && mv -f "$f.tmp" "$f"
`;

/** The script's path in this node's run directory, (re)written when missing or different (0700, root's). */
export function restoreHookPath(): string {
  ensurePrivateDir(runDir());
  const path = join(runDir(), 'criu-restore-hook');
  let current = '';
  try { current = readFileSync(path, 'utf8'); } catch { /* not written yet */ }
  if (current !== SCRIPT) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, SCRIPT, { mode: 0o700 });
    renameSync(tmp, path);
  }
  return path;
}
