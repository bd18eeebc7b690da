/**
 * node:crypto, loaded on first use: importing it costs a monitor a few milliseconds (its ciphers and streams are
 * compiled on load), and a monitor of a running container needs none of it.
 */
import { createRequire } from 'node:module';

let loaded: typeof import('node:crypto') | undefined;

export function nodeCrypto(): typeof import('node:crypto') {
  loaded ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return loaded;
}

export function randomBuffer(bytes: number): Buffer {
  return nodeCrypto().randomBytes(bytes);
}

export function randomHex(bytes: number): string {
  return randomBuffer(bytes).toString('hex');
}
