/**
 * IP address checks with ipaddr.js (pure JavaScript, bundled with the agent): node:net would cost every
 * monitor of a container with an address about 4 ms to load (bench/monitor.ts).
 */
import ipaddr from 'ipaddr.js';

/** 4 or 6 for a plain address as ip(8) takes it (dotted quad; IPv6 without a %zone), else 0. */
export function ipFamily(raw: string): 0 | 4 | 6 {
  if (ipaddr.IPv4.isValidFourPartDecimal(raw)) return 4;
  if (!raw.includes('%') && ipaddr.IPv6.isValid(raw)) return 6;
  return 0;
}

/** Whether `address` lies in `network`/`prefix` (same family assumed, checked by the caller). */
export function inSubnet(address: string, network: string, prefix: number): boolean {
  const a = ipaddr.parse(address);
  const n = ipaddr.parse(network);
  return a.kind() === n.kind() && a.match(n, prefix);
}

export function isLinkLocal(address: string): boolean {
  return ipaddr.parse(address).range() === 'linkLocal';
}
