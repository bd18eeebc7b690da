/** The container's network: a veth pair, host side in the bridge, container side eth0 with the configured address. */
import type { Config } from '../../ocf/params.js';
import { run } from '../../util/run.js';
import { defaultMac, hostInterfaceName } from './naming.js';

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

export async function plugNetwork(config: Config, pid: number): Promise<string | undefined> {
  const hostSide = config.bridge ? hostInterfaceName(config.name) : undefined;
  if (config.bridge && hostSide) {
    await run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]);
    await run('ip', ['link', 'set', hostSide, 'master', config.bridge, 'up']);
  }
  await run('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-batch', '-'], { input: `${containerNetworkBatch(config).join('\n')}\n` });
  return hostSide;
}

export async function removeHostInterface(name: string | undefined): Promise<void> {
  if (!name) return;
  await run('ip', ['link', 'del', name], { allowFailure: true });
}

export async function bridgeExists(bridge: string): Promise<boolean> {
  const r = await run('ip', ['-o', 'link', 'show', 'dev', bridge, 'type', 'bridge'], { allowFailure: true });
  return r.exitCode === 0 && r.stdout.includes(bridge);
}
