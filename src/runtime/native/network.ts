/** The native container's network: a veth pair, host side in the bridge, container side eth0 with the configured address. */
import type { Config } from '../../settings/params.js';
import { run } from '../../util/run.js';
import { hostInterfaceName } from '../naming.js';
import { containerNetworkBatch, plugVeth } from '../bridge.js';

export { bridgeExists, removeHostInterface } from '../bridge.js';

export async function plugNetwork(config: Config, pid: number): Promise<string | undefined> {
  const hostSide = config.bridge ? hostInterfaceName(config.name) : undefined;
  if (config.bridge && hostSide) {
    await plugVeth(hostSide, String(pid), config.bridge);
  }
  await run('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-batch', '-'], { input: `${containerNetworkBatch(config).join('\n')}\n` });
  return hostSide;
}
