/**
 * The container's side of the network Ferry makes (native and podman): the `ip -batch` lines that address its
 * eth0, the host bridge it joins (which every driver checks exists), and removing the host side of its veth.
 */
import { randomBuffer } from '../util/lazy-crypto.js';
import type { Config } from '../settings/params.js';
import { run } from '../util/run.js';
import { defaultMac } from './naming.js';

/** `ip -batch` lines run inside the container's network namespace. Pure, so it is tested without root. */
export function containerNetworkBatch(config: Config): string[] {
  const lines = ['link set lo up'];
  if (!config.bridge) return lines;
  lines.push(`link set eth0 address ${config.mac ?? defaultMac(config.name)}`);
  if (config.ip) lines.push(`addr add ${config.ip.address}/${config.ip.prefix} dev eth0`);
  lines.push('link set eth0 up');
  // dev eth0: an IPv6 link-local router address (fe80::1) is ambiguous without it
  if (config.gateway) lines.push(`route add default via ${config.gateway} dev eth0`);
  return lines;
}

export async function removeHostInterface(name: string | undefined): Promise<void> {
  if (!name) return;
  await run('ip', ['link', 'del', name], { allowFailure: true });
}

export async function bridgeExists(bridge: string): Promise<boolean> {
  const r = await run('ip', ['-o', 'link', 'show', 'dev', bridge, 'type', 'bridge'], { allowFailure: true });
  return r.exitCode === 0 && r.stdout.includes(bridge);
}

/**
 * A MAC for the host side of a container's veth that never becomes its bridge's own. A Linux bridge without an
 * address set by hand takes the lowest of its ports' and, when that port goes (the container moved away), takes
 * another: the node's own address on the bridge then stops answering until its peers ask ARP again, tens of
 * seconds (found with Pacemaker Remote in the lab: the cluster lost the node). 0xfe first (locally administered,
 * unicast) is above any vendor's, as libvirt and LXC choose for the same reason.
 */
export function hostSideMac(random: Buffer = randomBuffer(5)): string {
  return ['fe', ...[...random.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** The container's veth: eth0 in the network namespace `netns` (a PID or a name), the host side in `bridge`. */
export async function plugVeth(hostSide: string, netns: string, bridge: string): Promise<void> {
  await run('ip', ['link', 'add', hostSide, 'address', hostSideMac(), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await run('ip', ['link', 'set', hostSide, 'master', bridge, 'up']);
}

/** CRIU re-creates the host side of a restored veth with a kernel-chosen MAC: give it one the bridge never takes. */
export async function settleRestoredHostSide(hostSide: string | undefined): Promise<void> {
  if (hostSide) await run('ip', ['link', 'set', 'dev', hostSide, 'address', hostSideMac()]);
}
