/**
 * Where a container's files live on a node during and after a move (storage=none), all beside the tree itself
 * so that every switch is one rename(2) on one filesystem:
 *   ROOT                      the tree the container runs from; on one node only, where it last ran
 *   ROOT.ferry-incoming-ID    the copy migration ID is filling on its target, until the restore takes it
 *   ROOT.ferry-moved-ID       what the source kept after migration ID restored elsewhere, the base for nothing
 *                             but the admin's peace of mind; the next copy arriving on this node replaces it
 * A fresh start on a node without ROOT fails: the files are where the container is.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';

const ID = /^[A-Za-z0-9-]{1,64}$/;

/** Why `root` cannot be a moved tree's path, or undefined: absolute, normalized, not "/" itself. */
export function rootProblem(root: string): string | undefined {
  if (root === '/') return 'the root directory itself cannot be moved';
  if (!isAbsolute(root) || normalize(root) !== root || root.endsWith('/')) return `${JSON.stringify(root)} is not a normalized absolute path`;
  return undefined;
}

function checked(root: string, id: string): void {
  const problem = rootProblem(root);
  if (problem) throw new Error(problem);
  if (!ID.test(id)) throw new Error(`invalid migration id ${JSON.stringify(id)}`);
}

export function incomingDir(root: string, id: string): string {
  checked(root, id);
  return `${root}.ferry-incoming-${id}`;
}

export function movedDir(root: string, id: string): string {
  checked(root, id);
  return `${root}.ferry-moved-${id}`;
}

/** The siblings of ROOT that Ferry made, of one kind. */
function siblings(root: string, kind: 'incoming' | 'moved'): string[] {
  const prefix = `${basename(root)}.ferry-${kind}-`;
  let names: string[] = [];
  try {
    names = readdirSync(dirname(root));
  } catch { return []; }
  return names.filter((n) => n.startsWith(prefix) && ID.test(n.slice(prefix.length))).map((n) => join(dirname(root), n));
}

/** Before a new copy arrives: what earlier moves left here (partial copies, kept sources) goes. Returns what went. */
export function clearLeftovers(root: string, keepId?: string): string[] {
  const gone: string[] = [];
  for (const dir of [...siblings(root, 'incoming'), ...siblings(root, 'moved')]) {
    if (keepId !== undefined && dir.endsWith(`-${keepId}`)) continue;
    rmSync(dir, { recursive: true, force: true });
    gone.push(dir);
  }
  return gone;
}

/**
 * The target, before its restore: the copy becomes ROOT. A ROOT already here (an admin's copy, a stale one) is
 * set aside as ROOT.ferry-moved-ID rather than removed. Returns what happened, for the log.
 */
export function activateIncoming(root: string, id: string): string {
  const incoming = incomingDir(root, id);
  if (!existsSync(incoming)) {
    if (existsSync(root)) return `${root} is already in place`;
    throw new Error(`the files of migration ${id} did not arrive here (no ${incoming})`);
  }
  let aside = '';
  if (existsSync(root)) {
    renameSync(root, movedDir(root, id));
    aside = `; the ${root} that was here is kept as ${movedDir(root, id)}`;
  }
  renameSync(incoming, root);
  return `${incoming} is now ${root}${aside}`;
}

/** The target, after a failed restore: ROOT goes back to being the incoming copy (the source's stays authoritative). */
export function deactivate(root: string, id: string): void {
  if (existsSync(root) && !existsSync(incomingDir(root, id))) renameSync(root, incomingDir(root, id));
}

/** The source, once the container runs elsewhere: ROOT is no longer the container's. */
export function retireRoot(root: string, id: string): string | undefined {
  if (!existsSync(root)) return undefined;
  renameSync(root, movedDir(root, id));
  return movedDir(root, id);
}
