/**
 * The container's network identity and set-up: the host-side veth name and the default MAC are derived from
 * the container name, so they are the same on every node (CRIU re-creates the veth by name on restore; peers'
 * ARP caches stay right), fit the kernel's limits, and differ between containers. The `ip -batch` lines that
 * configure eth0 follow the parameters.
 */
import t from 'tap';
import { defaultMac, hostInterfaceName } from '../../src/runtime/naming.js';
import { containerNetworkBatch, hostSideMac } from '../../src/runtime/bridge.js';
import { parseConfig } from '../../src/ocf/config.js';
import { PARAMS, type Config } from '../../src/settings/params.js';
import { int, pick, seeded } from './fixtures/random.js';

/** Valid container names of every length 1..63 plus seeded random ones (10 000 in all). */
function names(): string[] {
  const rnd = seeded(0x7e7);
  const first = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const rest = `${first}_.-`;
  const out = new Set<string>(Array.from({ length: 63 }, (_, i) => 'w'.repeat(i + 1)));
  for (const n of ['web1', 'web2', 'web-1', 'web_1', 'web.1', 'Web1', 'db']) out.add(n);
  while (out.size < 10_000) {
    let n = pick(rnd, [...first]);
    for (let k = int(rnd, 0, 20); k > 0; k -= 1) n += pick(rnd, [...rest]);
    out.add(n);
  }
  return [...out];
}

function config(params: Record<string, string>): Config {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries({ name: 'web1', command: 'sleep 1000', ...params })) env[`OCF_RESKEY_${k}`] = v;
  const { config, errors } = parseConfig(env);
  if (!config) throw new Error(errors.map((e) => e.message).join('; '));
  return config;
}

const ALL = names();

t.test('host interface names fit IFNAMSIZ and are valid interface names, for every container name', async (t) => {
  const bad = ALL.filter((n) => {
    const ifname = hostInterfaceName(n);
    return ifname.length > 15 || !/^[a-z0-9]+$/.test(ifname) || PARAMS.bridge.parse('bridge', ifname) !== ifname;
  });
  t.same(bad, []);
  t.ok(hostInterfaceName('w'.repeat(63)).length <= 15, 'the longest container name too');
});

t.test('host interface names are stable and distinct for distinct containers', async (t) => {
  t.equal(hostInterfaceName('web1'), hostInterfaceName('web1'));
  t.not(hostInterfaceName('web1'), hostInterfaceName('web2'));
  t.not(hostInterfaceName('web1'), hostInterfaceName('Web1'), 'case matters');
  t.equal(new Set(ALL.map(hostInterfaceName)).size, ALL.length, `${ALL.length} names, no collision`);
});

t.test('default MACs are locally administered unicast addresses', async (t) => {
  const bad = ALL.filter((n) => {
    const mac = defaultMac(n);
    const firstOctet = parseInt(mac.slice(0, 2), 16);
    return !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) || (firstOctet & 1) !== 0 || (firstOctet & 2) === 0;
  });
  t.same(bad, []);
  t.equal(PARAMS.mac.parse('mac', defaultMac('web1')), defaultMac('web1'), 'the agent\'s own mac check accepts it');
});

t.test('default MACs are stable and distinct for distinct containers', async (t) => {
  t.equal(defaultMac('web1'), defaultMac('web1'));
  t.not(defaultMac('web1'), defaultMac('web2'));
  t.equal(new Set(ALL.map(defaultMac)).size, ALL.length, `${ALL.length} names, no collision`);
});

t.test('without a bridge the container has only loopback', async (t) => {
  t.same(containerNetworkBatch(config({})), ['link set lo up']);
});

t.test('with a bridge only: eth0 gets the stable MAC and comes up, no address or route', async (t) => {
  t.same(containerNetworkBatch(config({ bridge: 'br0' })), [
    'link set lo up',
    `link set eth0 address ${defaultMac('web1')}`,
    'link set eth0 up',
  ]);
});

t.test('address and gateway: the MAC is set before eth0 comes up, the address before the route', async (t) => {
  const lines = containerNetworkBatch(config({ bridge: 'br0', ip: '10.78.0.50/24', gateway: '10.78.0.1' }));
  t.same(lines, [
    'link set lo up',
    `link set eth0 address ${defaultMac('web1')}`,
    'addr add 10.78.0.50/24 dev eth0',
    'link set eth0 up',
    'route add default via 10.78.0.1 dev eth0',
  ]);
});

t.test('an explicit mac replaces the derived one; IPv6 works the same way', async (t) => {
  const lines = containerNetworkBatch(config({ bridge: 'br0', ip: '2001:db8::5/64', gateway: '2001:db8::1', mac: '02:00:0a:4e:00:32' }));
  t.ok(lines.includes('link set eth0 address 02:00:0a:4e:00:32'));
  t.notOk(lines.some((l) => l.includes(defaultMac('web1'))));
  t.ok(lines.includes('addr add 2001:db8::5/64 dev eth0'));
  t.ok(lines.includes('route add default via 2001:db8::1 dev eth0'));
});

t.test('each batch line is one line', async (t) => {
  const lines = containerNetworkBatch(config({ bridge: 'br0', ip: '10.78.0.50/24', gateway: '10.78.0.1' }));
  t.same(lines.filter((l) => /[\n\r]/.test(l)), []);
});

t.test('an IPv6 link-local gateway, the usual one, gets a route ip accepts', async (t) => {
  // `ip route add default via fe80::1` fails with "Egress device not specified": a link-local next hop needs its device
  const lines = containerNetworkBatch(config({ bridge: 'br0', ip: '2001:db8::5/64', gateway: 'fe80::1' }));
  const route = lines.find((l) => l.startsWith('route add default via fe80::1'));
  t.ok(route, 'there is a default route via the gateway');
  t.match(route, / dev eth0( |$)/, 'it names eth0');
});


t.test('the host side of a veth gets a MAC no bridge takes as its own (0xfe first, unicast, locally administered)', async (t) => {
  t.equal(hostSideMac(Buffer.from([0, 1, 2, 0xab, 0xff])), 'fe:00:01:02:ab:ff');
  for (let i = 0; i < 50; i += 1) {
    const mac = hostSideMac();
    t.match(mac, /^fe(:[0-9a-f]{2}){5}$/, mac);
  }
  t.ok(Number.parseInt('fe', 16) & 0x02 && !(Number.parseInt('fe', 16) & 0x01), 'locally administered, unicast');
});
