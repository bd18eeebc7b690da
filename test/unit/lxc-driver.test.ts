/**
 * The LXC driver's pure parts: reading an LXC configuration as LXC does (includes of files and directories, last
 * value wins, mount entries add up), what keeps a container from moving live, the CRIU dump options lxc-checkpoint
 * -r needs the images made with, and the driver=lxc parameters.
 */
import t from 'tap';
import { firstNetwork, liveMigrationProblems, lxcValue, mountEntries, readLxcConfig, type FileReader } from '../../src/runtime/lxc/config-file.js';
import { cgroupPaths, lxcDumpOptions } from '../../src/runtime/lxc/criu-options.js';
import { parseSettings } from '../../src/settings/config.js';

/** Debian's LXC 5.0 common.conf, abridged to the lines that matter here. */
const COMMON = `lxc.tty.dir = lxc
lxc.tty.max = 4
lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed
lxc.mount.entry = /sys/fs/fuse/connections sys/fs/fuse/connections none bind,optional 0 0
lxc.include = /usr/share/lxc/config/common.conf.d/
`;
const CONTAINER = `# Ferry lab container
lxc.include = /usr/share/lxc/config/common.conf
lxc.uts.name = web1
lxc.rootfs.path = dir:/srv/shared/lxc/web1/rootfs
lxc.tty.max = 0
lxc.console.path = none
lxc.net.0.type = veth
lxc.net.0.link = br0
lxc.net.0.hwaddr = 02:00:0a:4e:00:3c
lxc.net.0.ipv4.address = 10.78.0.60/24
lxc.mount.entry = /srv/data srv/data none rbind,create=dir 0 0
lxc.mount.entry = tmpfs tmp tmpfs defaults 0 0
lxc.cgroup.memory.limit_in_bytes = 268435456
`;

function files(map: Record<string, string>, dirs: Record<string, string[]> = {}): FileReader {
  return { read: (p) => map[p], list: (d) => dirs[d.replace(/\/$/, '')] };
}
const reader = files({
  '/var/lib/lxc/web1/config': CONTAINER,
  '/usr/share/lxc/config/common.conf': COMMON,
  '/usr/share/lxc/config/common.conf.d/a.conf': 'lxc.cap.drop = sys_module\n',
  '/usr/share/lxc/config/common.conf.d/README': 'not a config = 1\n',
}, { '/usr/share/lxc/config/common.conf.d': ['README', 'a.conf'] });

t.test('an LXC configuration as LXC reads it', async (t) => {
  const c = readLxcConfig('/var/lib/lxc/web1/config', reader);
  t.same(c.files, ['/var/lib/lxc/web1/config', '/usr/share/lxc/config/common.conf', '/usr/share/lxc/config/common.conf.d/a.conf'], 'includes of a file and of a directory\'s *.conf');
  t.equal(lxcValue(c, 'lxc.tty.max'), '0', 'the container\'s own value, set after the include, wins');
  t.equal(lxcValue(c, 'lxc.cap.drop'), 'sys_module');
  t.equal(lxcValue(c, 'not a config'), undefined, 'a file of the directory not named *.conf is not read');
  t.same(mountEntries(c).map((m) => m.target), ['sys/fs/fuse/connections', 'srv/data', 'tmp'], 'mount entries add up, in order');
  t.same(firstNetwork(c), { type: 'veth', link: 'br0', hwaddr: '02:00:0a:4e:00:3c', ipv4: '10.78.0.60/24' });
  t.same(liveMigrationProblems(c), [], 'this one can move live');
  t.throws(() => readLxcConfig('/var/lib/lxc/nope/config', reader), /cannot be read/);
  const loop = files({ '/a': 'lxc.include = /b\n', '/b': 'lxc.include = /a\n' });
  t.throws(() => readLxcConfig('/a', loop), /nested more than 8 deep/, 'an include loop ends with an error');
});

t.test('what keeps a container from moving live, each with its reason', async (t) => {
  const problems = (text: string) => liveMigrationProblems(readLxcConfig('/c', files({ '/c': text })));
  const base = 'lxc.tty.max = 0\nlxc.console.path = none\nlxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.hwaddr = 02:00:0a:4e:00:3c\nlxc.net.0.ipv4.address = 10.78.0.60/24\n';
  t.same(problems(base), []);
  t.match(problems(base.replace('lxc.tty.max = 0', 'lxc.tty.max = 4')), [/lxc.tty.max must be 0/]);
  t.match(problems(base.replace('lxc.console.path = none\n', '')), [/lxc.console.path must be none/], 'a console by default');
  t.match(problems(base.replace('02:00:0a:4e:00:3c', '00:16:3e:xx:xx:xx')), [/hwaddr must be a fixed MAC/], 'LXC\'s generated MAC template');
  t.match(problems(base.replace('lxc.net.0.ipv4.address = 10.78.0.60/24\n', '')), [/static address/]);
  t.match(problems(base.replace('type = veth', 'type = macvlan')), [/only a veth/]);
  t.same(problems('lxc.tty.max = 0\nlxc.console.path = none\nlxc.net.0.type = empty\n'), [], 'no network: nothing to keep');
});

/** /proc/PID/cgroup of an LXC 5.0 container's init on this lab's hybrid host (cgroup v1 plus a hugetlb-only v2). */
const PROC_CGROUP = `12:pids:/lxc.payload.web1-2
11:freezer:/lxc.payload.web1-2
10:memory:/lxc.payload.web1-2
9:cpu,cpuacct:/lxc.payload.web1-2
8:name=systemd:/lxc.payload.web1-2
0::/
`;

t.test('the CRIU dump options of an LXC container', async (t) => {
  t.same(cgroupPaths(PROC_CGROUP).map((c) => c.controllers), ['pids', 'freezer', 'memory', 'cpu,cpuacct', 'name=systemd'], 'the v1 hierarchies (the v2 line has no controllers)');
  const args = lxcDumpOptions(PROC_CGROUP, mountEntries(readLxcConfig('/var/lib/lxc/web1/config', reader)));
  const joined = args.join(' ');
  t.match(joined, /--manage-cgroups=full .*--ext-mount-map auto/, 'cgroups managed, external mounts found by CRIU too');
  t.match(joined, /--cgroup-root memory:\/lxc.payload.web1-2/, 'each hierarchy at the init\'s own path (LXC added -2: the name was taken)');
  t.match(joined, /--cgroup-root name=systemd:\/lxc.payload.web1-2/);
  t.equal(args[args.indexOf('--freeze-cgroup') + 1], '/sys/fs/cgroup/freezer/lxc.payload.web1-2', 'frozen through its freezer cgroup');
  t.ok(joined.includes('--ext-mount-map /sys/fs/fuse/connections:sys/fs/fuse/connections'), 'the bind mount of common.conf, named as LXC\'s restore names it');
  t.ok(joined.includes('--ext-mount-map /srv/data:srv/data'), 'an rbind entry too');
  t.notOk(joined.includes('tmp:tmp'), 'a tmpfs entry is the container\'s own, not external');
  t.throws(() => lxcDumpOptions('0::/\n', []), /no freezer cgroup/, 'a pure cgroup v2 host is said so');
});

t.test('driver=lxc parameters', async (t) => {
  const parse = (p: Record<string, string>) => parseSettings({ name: 'web1', driver: 'lxc', ...p });
  t.equal(parse({}).config?.config, undefined, 'config defaults to LXC\'s place (resolved by the driver)');
  t.equal(parse({ config: '/srv/lxc/web1/config' }).config?.config, '/srv/lxc/web1/config');
  t.match(parse({ config: '/srv/lxc/other/config' }).errors[0]?.message ?? '', /config: must be LXCPATH\/web1\/config/);
  t.match(parse({ config: '/srv/../etc/web1/config' }).errors[0]?.message ?? '', /config: .*"\." or "\.\." components/, 'no path traversal');
  t.match(parse({ config: 'web1/config' }).errors[0]?.message ?? '', /not an absolute path/);
  t.match(parse({ ip: '10.0.0.1/24', bridge: 'br0' }).errors.map((e) => e.message).join('\n'), /ip: is not used with driver=lxc[\s\S]*bridge: is not used/);
  t.same(parse({}).errors, [], 'no command needed');
  t.match(parseSettings({ name: 'n1', command: 'sleep 1', config: '/var/lib/lxc/n1/config' }).errors[0]?.message ?? '', /config: is for driver=lxc, not driver=native/);
});

t.test('a checkpoint is restored only under the same runtime configuration', async (t) => {
  const { configDifferences, runtimeConfigProblem } = await import('../../src/migrate/runtime-config.js');
  const a = { 'lxc.rootfs.path': ['dir:/srv/a'], 'lxc.mount.entry': ['x y none bind 0 0'] };
  t.same(configDifferences(a, { ...a }), []);
  t.same(configDifferences(a, { ...a, 'lxc.rootfs.path': ['dir:/srv/b'] }), ['lxc.rootfs.path']);
  t.same(configDifferences(a, { 'lxc.rootfs.path': ['dir:/srv/a'] }), ['lxc.mount.entry'], 'a key missing on one side');
  t.equal(runtimeConfigProblem(a, a, 'node1'), undefined);
  t.equal(runtimeConfigProblem(undefined, a, 'node1'), undefined, 'a checkpoint of a runtime without its own config');
  t.match(runtimeConfigProblem(a, { ...a, 'lxc.rootfs.path': ['dir:/srv/b'] }, 'node1') ?? '', /differs from node1's, where it was checkpointed: lxc.rootfs.path \(\["dir:\/srv\/a"\] on node1, \["dir:\/srv\/b"\] here\)/);
});
