/**
 * The whole configuration as the agent reads it from its environment: all parameter errors at once, the checks
 * that span several parameters, the extra needs of live migration, and the lenient reading stop relies on.
 */
import t from 'tap';
import { parseConfig, parseConfigForStop } from '../../src/ocf/config.js';
import { migrationProblems } from '../../src/settings/config.js';
import { ParamError } from '../../src/settings/param-types.js';

/** The environment Pacemaker gives an agent: parameters plus meta attributes the parser must ignore. */
function env(params: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'web1', OCF_RESKEY_CRM_meta_timeout: '20000',
    OCF_RESKEY_CRM_meta_interval: '10000', OCF_RESKEY_CRM_meta_allow_migrate: 'true', PATH: '/usr/bin:/bin',
  };
  for (const [k, v] of Object.entries(params)) e[`OCF_RESKEY_${k}`] = v;
  return e;
}

const MINIMAL = { name: 'web1', command: 'sleep 1000' };

function problems(params: Record<string, string>): string[] {
  return parseConfig(env(params)).errors.map((e) => e.message);
}

t.test('a minimal configuration is valid and typed, with defaults filled in', async (t) => {
  const { config, errors } = parseConfig(env(MINIMAL));
  t.same(errors, []);
  t.ok(config);
  t.equal(config?.name, 'web1');
  t.equal(config?.command, 'sleep 1000');
  t.equal(config?.driver, 'native');
  t.equal(config?.stop_timeout, 10);
  t.equal(config?.state_dir, undefined);
  t.equal(config?.bridge, undefined);
});

t.test('a full network configuration is valid', async (t) => {
  const { config, errors } = parseConfig(env({
    ...MINIMAL, bridge: 'br0', ip: '10.78.0.50/24', gateway: '10.78.0.1', mac: '02:00:0a:4e:00:32', state_dir: '/srv/ferry',
  }));
  t.same(errors, []);
  t.same(config?.ip, { address: '10.78.0.50', prefix: 24 });
  t.equal(config?.gateway, '10.78.0.1');
  t.same(parseConfig(env({ ...MINIMAL, bridge: 'br0', ip: '2001:db8::5/64', gateway: 'fe80::1' })).errors, [], 'IPv6 too');
});

t.test('every bad parameter is reported at once, each naming itself', async (t) => {
  const { config, errors } = parseConfig(env({ ...MINIMAL, stop_timeout: 'ten', mac: '01:00:5e:00:00:01', storage: 'nfs' }));
  t.equal(config, undefined);
  t.same(errors.map((e) => e.param).sort(), ['mac', 'stop_timeout', 'storage']);
  for (const e of errors) {
    t.ok(e instanceof ParamError);
    t.match(e.message, new RegExp(`^parameter ${e.param}: `));
  }
});

t.test('storage=none is accepted; storage=drbd needs its resource and a mount point holding state_dir', async (t) => {
  t.same(problems({ ...MINIMAL, storage: 'none' }), []);
  t.same(problems({ ...MINIMAL, storage: 'drbd' }), ['parameter drbd_resource: is required with storage=drbd', 'parameter mount_point: is required with storage=drbd']);
  const drbd = { ...MINIMAL, storage: 'drbd', drbd_resource: 'r0', mount_point: '/srv/drbd' };
  t.same(problems({ ...drbd, state_dir: '/srv/drbd/ferry' }), []);
  t.same(problems({ ...drbd, state_dir: '/srv/drbd' }), [], 'the mount point itself');
  t.match(problems({ ...drbd, state_dir: '/srv/drbd-other/ferry' }), [/^parameter state_dir: must be inside mount_point \/srv\/drbd/], 'a sibling with the same prefix is outside');
  t.match(problems({ ...drbd, state_dir: '/var/lib/ferry' }), [/must be inside mount_point/]);
});

t.test('driver=native needs command', async (t) => {
  t.same(problems({ name: 'web1' }), ['parameter command: is required with driver=native']);
  t.same(problems({ name: 'web1', command: '' }), ['parameter command: is required with driver=native'], 'empty command is unset');
});

t.test('ip and mac need bridge', async (t) => {
  t.same(problems({ ...MINIMAL, ip: '10.78.0.50/24' }), ['parameter ip: needs bridge (the host bridge the container joins)']);
  t.same(problems({ ...MINIMAL, mac: '02:00:0a:4e:00:32' }), ['parameter mac: needs bridge (the container has no eth0 without one)']);
  t.same(problems({ ...MINIMAL, bridge: 'br0' }), [], 'bridge alone is fine (the address may come from inside)');
});

t.test('gateway needs ip, of the same address family', async (t) => {
  t.same(problems({ ...MINIMAL, bridge: 'br0', gateway: '10.78.0.1' }), ['parameter gateway: needs ip']);
  t.same(problems({ ...MINIMAL, bridge: 'br0', ip: '10.78.0.50/24', gateway: 'fe80::1' }),
    ['parameter gateway: is not of the same address family as ip']);
  t.same(problems({ ...MINIMAL, bridge: 'br0', ip: '2001:db8::5/64', gateway: '10.78.0.1' }),
    ['parameter gateway: is not of the same address family as ip']);
});

t.test('several cross-parameter problems are all reported', async (t) => {
  const found = parseConfig(env({ name: 'web1', ip: '10.78.0.50/24', gateway: 'fe80::1' })).errors.map((e) => e.param);
  t.same(found.sort(), ['command', 'gateway', 'ip']);
});

t.test('live migration needs state_dir', async (t) => {
  const without = parseConfig(env(MINIMAL)).config;
  const withDir = parseConfig(env({ ...MINIMAL, state_dir: '/srv/ferry' })).config;
  if (!without || !withDir) throw new Error('the minimal configurations must be valid');
  const [problem, ...more] = migrationProblems(without);
  t.same(more, []);
  t.equal(problem?.param, 'state_dir');
  t.match(problem?.message, /^parameter state_dir: is required for live migration \(allow-migrate=true\)/);
  t.same(migrationProblems(withDir), []);
});

t.test('stop reads an invalid configuration leniently, so a running container can still be stopped', async (t) => {
  const c = parseConfigForStop(env({ name: 'web1', stop_timeout: 'soon', mac: 'nope', storage: 'nfs', state_dir: 'relative' }));
  t.ok(c, 'usable although four parameters are invalid and command is missing');
  t.equal(c?.name, 'web1');
  t.equal(c?.stop_timeout, 10, 'a bad stop_timeout falls back to its default');
  t.equal(c?.storage, 'shared');
  t.equal(c?.mac, undefined, 'a bad optional parameter is unset');
  t.equal(c?.state_dir, undefined);
  t.equal(c?.command, undefined);

  const kept = parseConfigForStop(env({ name: 'web1', stop_timeout: '3', bridge: 'br0', mac: 'nope' }));
  t.equal(kept?.stop_timeout, 3, 'valid parameters keep their values');
  t.equal(kept?.bridge, 'br0');

  t.same(parseConfigForStop(env({ ...MINIMAL, stop_timeout: '30' })), parseConfig(env({ ...MINIMAL, stop_timeout: '30' })).config,
    'a valid configuration reads the same both ways');
});

t.test('stop gives up only when the name itself is unusable', async (t) => {
  t.equal(parseConfigForStop(env({ command: 'x' })), undefined, 'no name');
  t.equal(parseConfigForStop(env({ name: '' })), undefined, 'empty name');
  t.equal(parseConfigForStop(env({ name: '../etc' })), undefined, 'invalid name');
});

t.test('an IPv4 gateway outside ip\'s subnet is refused by validation, not by `ip route` at start', async (t) => {
  // `ip route add default via 10.99.0.1` on a 10.78.0.50/24 eth0 fails with "Nexthop has invalid gateway"
  t.match(problems({ ...MINIMAL, bridge: 'br0', ip: '10.78.0.50/24', gateway: '10.99.0.1' }), [/^parameter gateway: /], 'gateway 10.99.0.1 with ip 10.78.0.50/24');
  t.same(problems({ ...MINIMAL, bridge: 'br0', ip: '10.78.0.50/16', gateway: '10.78.99.1' }), [], 'inside a /16 is fine');
});

