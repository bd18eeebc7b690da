/** Stable names derived from the container name: the host-side veth and the default MAC. */
import { nodeCrypto } from '../util/lazy-crypto.js';

function digest(name: string): Buffer {
  return nodeCrypto().createHash('sha256').update(`ferry:${name}`).digest();
}

/** At most 15 characters (IFNAMSIZ); the same on every node so CRIU can re-create it on restore. */
export function hostInterfaceName(name: string): string {
  return `fy${digest(name).subarray(0, 5).toString('hex')}`;
}

/** A locally administered unicast MAC (02:...), the same on every node, so peers' ARP caches stay right. */
export function defaultMac(name: string): string {
  const bytes = digest(name).subarray(8, 13);
  return ['02', ...Array.from(bytes, (b) => b.toString(16).padStart(2, '0'))].join(':');
}
