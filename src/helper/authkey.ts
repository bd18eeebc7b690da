/**
 * The shared key that authenticates helpers to each other (TLS-PSK), like corosync's authkey: random bytes in a
 * root-only file that every node has a copy of.
 */
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, statSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export const DEFAULT_AUTHKEY = '/etc/ferry/authkey';
const KEY_BYTES = 32;

export function generateAuthkey(path: string, overwrite = false): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, overwrite ? 'w' : 'wx', 0o600);
  try {
    writeSync(fd, randomBytes(KEY_BYTES));
  } finally {
    closeSync(fd);
  }
}

/** Reads the key, refusing one that others can read or that is too short to be a key. */
export function readAuthkey(path: string): Buffer {
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0) throw new Error(`${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`);
  const key = readFileSync(path);
  if (key.length < 16) throw new Error(`${path} holds ${key.length} bytes: too short for a key (ferry keygen makes one)`);
  return key;
}
