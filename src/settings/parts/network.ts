/**
 * The container's network as Ferry makes it (driver=native and driver=podman): a veth in a host bridge, the
 * address and MAC moving with the container. Shared by both drivers, so its checks live here once.
 */
import { inSubnet, isLinkLocal } from '../../util/ip.js';
import { matching, optional, ParamError, type ParamPart, type ValuesOf } from '../param-types.js';
import { cidr, ipAddress } from '../values.js';

const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/i;

export const NETWORK_PARAMS = {
  ip: optional('string', {
    shortdesc: 'Container address (CIDR)',
    longdesc: 'Address with prefix length given to the container\'s eth0, for example 10.78.0.50/24. Needs bridge. '
      + 'The address and MAC move with the container, so peers keep talking to it after a migration; Ferry '
      + 'announces the address with a gratuitous ARP after every restore.',
  }, cidr),
  bridge: optional('string', {
    shortdesc: 'Host bridge for the container network',
    longdesc: 'Name of an existing bridge on every node that the container\'s veth joins. Without it the '
      + 'container has only a loopback interface. The bridge must connect to the same L2 segment on every node '
      + 'the container may run on, or its address will not be reachable after a migration. With driver=podman '
      + 'Ferry makes the network namespace /run/netns/ferry-NAME with this veth and the container joins it '
      + '(podman run --network ns:...), so run_opts must not name a network of its own.',
  }, matching(IFNAME, 'a network interface name')),
  mac: optional('string', {
    shortdesc: 'Container MAC address',
    longdesc: 'MAC address of the container\'s eth0 (unicast, like 02:00:0a:4e:00:32). When unset, a stable '
      + 'locally administered address is derived from name, so it is the same on every node and after every '
      + 'migration.',
  }, matching(MAC, 'a unicast MAC address like 02:00:0a:4e:00:32')),
  gateway: optional('string', {
    shortdesc: 'Default gateway of the container',
    longdesc: 'IP address of the container\'s default route. Needs ip.',
  }, ipAddress),
} as const;

/** A default gateway must be on the container's own subnet (or, for IPv6, link-local). */
function gatewayReachable(gateway: string, address: string, prefix: number): boolean {
  return inSubnet(gateway, address, prefix) || (address.includes(':') && isLinkLocal(gateway));
}

function networkChecks(c: ValuesOf<typeof NETWORK_PARAMS>): ParamError[] {
  const problems: ParamError[] = [];
  if (c.ip && !c.bridge) problems.push(new ParamError('ip', 'needs bridge (the host bridge the container joins)'));
  if (c.mac && !c.bridge) problems.push(new ParamError('mac', 'needs bridge (the container has no eth0 without one)'));
  if (c.gateway && !c.ip) problems.push(new ParamError('gateway', 'needs ip'));
  if (c.gateway && c.ip && c.gateway.includes(':') !== c.ip.address.includes(':')) {
    problems.push(new ParamError('gateway', 'is not of the same address family as ip'));
  } else if (c.gateway && c.ip && !gatewayReachable(c.gateway, c.ip.address, c.ip.prefix)) {
    problems.push(new ParamError('gateway', `${c.gateway} is not inside ${c.ip.address}/${c.ip.prefix}${c.ip.address.includes(':') ? ' nor link-local' : ''}: the container could not reach it`));
  }
  return problems;
}

export const NETWORK: ParamPart<typeof NETWORK_PARAMS> = {
  title: 'The container network', appliesTo: 'driver=native or podman', params: NETWORK_PARAMS, crossChecks: networkChecks,
};
