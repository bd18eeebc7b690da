/**
 * IP address checks with ipaddr.js (pure JavaScript, bundled with the agent): node:net would cost every
 * monitor of a container with an address about 4 ms to load (bench/monitor.ts). Loaded on first use: a
 * container without an address never needs its 28 kB evaluated.
 */
import { createRequire } from 'node:module';
import type IpAddr from 'ipaddr.js';

let loaded: typeof IpAddr | undefined;

/** In the agent's bundle `require` is CommonJS's and esbuild makes it the bundled copy; compiled as ESM, Node's. */
function lib(): typeof IpAddr {
  loaded ??= (typeof require === 'function' ? require('ipaddr.js') : createRequire(import.meta.url)('ipaddr.js')) as typeof IpAddr;
  return loaded;
}

/** 4 or 6 for a plain address as ip(8) takes it (dotted quad; IPv6 without a %zone), else 0. */
export function ipFamily(raw: string): 0 | 4 | 6 {
  if (lib().IPv4.isValidFourPartDecimal(raw)) return 4;
  if (!raw.includes('%') && lib().IPv6.isValid(raw)) return 6;
  return 0;
}

/** Whether `address` lies in `network`/`prefix` (same family assumed, checked by the caller). */
export function inSubnet(address: string, network: string, prefix: number): boolean {
  const a = lib().parse(address);
  const n = lib().parse(network);
  return a.kind() === n.kind() && a.match(n, prefix);
}

export function isLinkLocal(address: string): boolean {
  return lib().parse(address).range() === 'linkLocal';
}
