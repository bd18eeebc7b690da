/**
 * What a directory tree holds, as a later sync needs to tell what changed: one entry per path (relative, never
 * following a symbolic link, never leaving the tree's filesystem), with what a change to content or metadata
 * always moves. ctime is the key: no program can set it back, so a file written and restored to its old mtime
 * is still seen as changed.
 */
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

export type EntryKind = 'file' | 'dir' | 'link' | 'other';

export interface Entry {
  kind: EntryKind;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  link?: string;
}

/** The entries, and when the walk began (wall clock, ns): see `racy` in diffTrees. */
export type Manifest = Map<string, Entry> & { walkedAtNs?: bigint };

/**
 * File times tick coarsely (the kernel's clock tick, whole seconds on some filesystems): a file written in the
 * same tick as the walk saw it keeps the ctime the walk recorded. An entry changed this close to the walk is
 * never trusted to be unchanged (git's "racily clean" entries).
 */
const RACY_WINDOW_NS = 1_000_000_000n;

function kindOf(st: BigIntStats): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'link';
  return 'other';
}

/** Walks `root` (which must be a directory); the root itself is the entry ".". */
export function walkTree(root: string): Manifest {
  const manifest: Manifest = new Map();
  manifest.walkedAtNs = BigInt(Date.now()) * 1_000_000n;
  const top = lstatSync(root, { bigint: true });
  if (!top.isDirectory()) throw new Error(`${root} is not a directory`);
  const visit = (rel: string, st: BigIntStats) => {
    const entry: Entry = { kind: kindOf(st), mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino };
    const abs = rel === '.' ? root : join(root, rel);
    if (entry.kind === 'link') entry.link = readlinkSync(abs);
    manifest.set(rel, entry);
    // another filesystem mounted inside the tree on this node is not the container's (LXC mounts in its own namespace)
    if (entry.kind !== 'dir' || st.dev !== top.dev) return;
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch { return; } // removed while walking (the container runs during the pre-sync)
    for (const name of names.sort()) {
      const child = rel === '.' ? name : `${rel}/${name}`;
      let cst: BigIntStats;
      try {
        cst = lstatSync(join(root, child), { bigint: true });
      } catch { continue; }
      if (cst.dev !== top.dev && cst.isDirectory()) continue;
      visit(child, cst);
    }
  };
  visit('.', top);
  return manifest;
}

function same(a: Entry, b: Entry): boolean {
  return a.kind === b.kind && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.ino === b.ino
    && a.ctimeNs === b.ctimeNs && a.mtimeNs === b.mtimeNs && (a.kind === 'dir' || a.size === b.size) && a.link === b.link;
}

export interface TreeDiff {
  /** New or changed paths, parents before children (each sent alone, a directory without its contents). */
  changed: string[];
  /** Paths gone, or replaced by another kind of entry; children before parents. */
  removed: string[];
}

/** What turns a copy of `before` into a copy of `after`. Pure. */
export function diffTrees(before: Manifest, after: Manifest): TreeDiff {
  const changed: string[] = [];
  const removed: string[] = [];
  const racySince = before.walkedAtNs === undefined ? undefined : before.walkedAtNs - RACY_WINDOW_NS;
  for (const [path, entry] of after) {
    const old = before.get(path);
    const racy = old !== undefined && racySince !== undefined && old.kind !== 'dir' && old.ctimeNs >= racySince;
    if (!old || racy || !same(old, entry)) changed.push(path);
    if (old && old.kind !== entry.kind) removed.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) removed.push(path);
  // a path's parents sort before it ("a" < "a/b"); deletions go the other way round
  const depth = (p: string) => p.split('/').length;
  changed.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
  removed.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
  return { changed, removed };
}

/** Bytes of regular files among `paths` of `m`: what a sync of them moves, about. */
export function bytesOf(m: Manifest, paths: Iterable<string>): number {
  let total = 0n;
  for (const p of paths) {
    const e = m.get(p);
    if (e?.kind === 'file') total += e.size;
  }
  return Number(total);
}
