/**
 * Removing paths from a copy of a tree, as the source's sync lists them: each path relative, inside the copy, and
 * never reached through a symbolic link (the container's root user makes the links, so a link in the copy may
 * point anywhere on this node). A path whose parent is not a plain directory is skipped: its parent is then
 * itself being replaced by the same sync.
 */
import { lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT = /^(?!\.{1,2}$)[^/\0]+$/;

export function relativePathProblem(path: string): string | undefined {
  if (path === '.') return undefined;
  const segments = path.split('/');
  return segments.every((s) => SEGMENT.test(s)) ? undefined : `invalid path ${JSON.stringify(path)}`;
}

/** Whether every parent of `rel` inside `dir` is a real directory (no link on the way). */
function parentsAreDirectories(dir: string, rel: string): boolean {
  const segments = rel.split('/');
  let at = dir;
  for (const s of segments.slice(0, -1)) {
    at = join(at, s);
    try {
      if (!lstatSync(at).isDirectory()) return false;
    } catch { return false; }
  }
  return true;
}

export function removePaths(dir: string, paths: readonly string[]): number {
  let removed = 0;
  for (const rel of paths) {
    const problem = relativePathProblem(rel);
    if (problem) throw new Error(problem);
    if (rel === '.' || !parentsAreDirectories(dir, rel)) continue;
    rmSync(join(dir, rel), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
