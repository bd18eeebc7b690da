/**
 * The podman container's network namespace, made by Ferry: /run/netns/ferry-NAME with the veth in the bridge and
 * the configured address and MAC (the same on every node, so peers and their ARP caches stay right). On a
 * target it is made held (every packet dropped) until the restore is done.
 */
import type { Config } from '../../settings/params.js';
import { run } from '../../util/run.js';
import { hostInterfaceName } from '../naming.js';
import { containerNetworkBatch, plugVeth, removeHostInterface } from '../bridge.js';
import { HOLD_TABLE, holdRuleset, netnsName, netnsPath } from './args.js';

export const hostSide = (config: Config): string | undefined => (config.bridge ? hostInterfaceName(config.name) : undefined);

const inNetns = (config: Config, cmd: string[]) => ['--net=' + netnsPath(config.name), ...cmd];

export async function removeNetns(config: Config): Promise<void> {
  await removeHostInterface(hostSide(config));
  await run('ip', ['netns', 'delete', netnsName(config.name)], { allowFailure: true });
}

export async function makeNetns(config: Config, held: boolean): Promise<void> {
  await removeNetns(config); // a stale one (an agent killed half-way) would make `ip netns add` fail
  await run('ip', ['netns', 'add', netnsName(config.name)]);
  try {
    if (held) await run('nsenter', inNetns(config, ['nft', '-f', '-']), { input: holdRuleset() });
    const host = hostSide(config);
    if (host && config.bridge) {
      await plugVeth(host, netnsName(config.name), config.bridge);
    }
    await run('ip', ['-n', netnsName(config.name), '-batch', '-'], { input: `${containerNetworkBatch(config).join('\n')}\n` });
  } catch (err) {
    await removeNetns(config);
    throw err;
  }
}

export async function releaseHold(config: Config): Promise<void> {
  await run('nsenter', inNetns(config, ['nft', 'delete', 'table', 'inet', HOLD_TABLE]), { allowFailure: true });
}
