/** Small file helpers: atomic JSON records and private (0700/0600) directories. */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync, readdirSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

/**
 * Writes a small file through a temporary one (named by the target and this process) and rename, so readers never
 * see half of it; no fsync: for node-local state under /run, which no crash outlives.
 */
export function writeTextAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Writes JSON through a temporary file and rename, so readers never see half a record; fsynced for shared storage. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${path} is not valid JSON (corrupt record): remove it after checking what it describes`);
  }
}

export function removeQuietly(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** A directory's entries, or none when it cannot be read (absent, not a directory). */
export function listQuietly(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
