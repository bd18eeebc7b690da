/** driver=lxc's part of the table: the LXC container's configuration file, as ocf:heartbeat:lxc names it. */
import { absolutePath, optional, ParamError, type ParamPart, type ValuesOf } from '../param-types.js';
import type { COMMON_PARAMS } from './common.js';
import type { NATIVE_PARAMS } from './native.js';
import type { NETWORK_PARAMS } from './network.js';

export const LXC_PARAMS = {
  config: optional('string', {
    shortdesc: 'The LXC container\'s configuration file',
    longdesc: 'Path of the container\'s LXC configuration, LXCPATH/NAME/config (default /var/lib/lxc/NAME/config, '
      + 'where NAME is name): its root filesystem, resource limits (lxc.cgroup.*) and network (lxc.net.0.*) are '
      + 'LXC\'s, as with ocf:heartbeat:lxc. The same file, with the root filesystem it names, must exist on every '
      + 'node (shared storage or the DRBD filesystem for the root filesystem). A container that migrates live needs '
      + 'lxc.tty.max = 0, lxc.console.path = none, a veth on a bridge every node has (lxc.net.0.link), a fixed '
      + 'lxc.net.0.hwaddr and a static lxc.net.0.ipv4.address: validate-all says which one is missing.',
  }, absolutePath),
} as const;

/** The LXC configuration path of a container: the parameter, else LXC's default place for `name`. */
export function lxcConfigPath(c: { name: string; config: string | undefined }): string {
  return c.config ?? `/var/lib/lxc/${c.name}/config`;
}

type Context = ValuesOf<typeof COMMON_PARAMS> & ValuesOf<typeof NATIVE_PARAMS> & ValuesOf<typeof NETWORK_PARAMS>;
type Values = ValuesOf<typeof LXC_PARAMS> & Context;

function lxcChecks(c: Values): ParamError[] {
  if (c.driver !== 'lxc') {
    return c.config !== undefined ? [new ParamError('config', `is for driver=lxc, not driver=${c.driver}`)] : [];
  }
  const problems: ParamError[] = [];
  // lxc-start, lxc-info and lxc-checkpoint find a container by LXCPATH and NAME, which the path must spell
  if (c.config !== undefined && !c.config.endsWith(`/${c.name}/config`)) {
    problems.push(new ParamError('config', `must be LXCPATH/${c.name}/config (LXC's tools find the container by its directory and name)`));
  }
  for (const native of ['command', 'ip', 'bridge', 'mac', 'gateway'] as const) {
    if (c[native] !== undefined) {
      problems.push(new ParamError(native, 'is not used with driver=lxc: the container\'s init and network are in its LXC config (lxc.init.cmd, lxc.net.0.*)'));
    }
  }
  return problems;
}

export const LXC: ParamPart<typeof LXC_PARAMS, Context> = {
  title: 'The LXC driver', appliesTo: 'driver=lxc', params: LXC_PARAMS, crossChecks: lxcChecks,
};
