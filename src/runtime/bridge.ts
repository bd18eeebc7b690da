/**
 * The container's side of the network Ferry makes (native and podman): the `ip -batch` lines that address its
 * eth0, the host bridge it joins (which every driver checks exists), and removing the host side of its veth.
 */
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
