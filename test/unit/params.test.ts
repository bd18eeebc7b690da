/**
 * Every parameter of ocf:ferry:container, as an admin writes it in the CIB: what each accepts and turns into,
 * what it refuses and with which words. A refusal is always a ParamError naming the parameter, because that
 * message becomes the exit reason Pacemaker shows.
 */
import t from 'tap';
import { PARAMS, type ParamName } from '../../src/settings/params.js';
import { PARAM_NAMES, SAMPLE, parse, refusal, refusedBy } from './fixtures/params.js';

const SHELL_METACHARACTERS = [' ', ';', '&', '|', '$', '`', '\'', '"', '\\', '<', '>', '(', ')', '{', '}', '*', '?', '!', '#', '~'];
const CONTROL_CHARACTERS = ['\u0000', '\t', '\n', '\r', '\u001b', '\u007f'];
const BOOLEANS: ParamName[] = ['migration_type_strict', 'cpu_check_force', 'require_migration_network', 'keep_images', 'autoset_utilization_memory', 'autoset_utilization_cpu'];

t.test('the sample table covers every parameter, and every sample is accepted', async (t) => {
  t.same(Object.keys(SAMPLE).sort(), [...PARAM_NAMES].sort());
  for (const name of PARAM_NAMES) t.doesNotThrow(() => parse(name, SAMPLE[name]), `${name}=${SAMPLE[name]}`);
});

t.test('unset parameters with a default take it, typed', async (t) => {
  t.equal(parse('driver', undefined), 'native');
  t.equal(parse('storage', undefined), 'shared');
  t.equal(parse('migration_type', undefined), 'iterative');
  t.equal(parse('migration_type_strict', undefined), false);
  t.same(parse('migration_network_suffix', undefined), ['.mn']);
  t.equal(parse('require_migration_network', undefined), false);
  t.equal(parse('criu_binary', undefined), 'criu');
  t.equal(parse('stop_timeout', undefined), 10);
  t.equal(parse('keep_images', undefined), false);
  t.equal(parse('checkpoint_max_age', undefined), 600);
  // the default written in the metadata is what an unset parameter means, for every parameter that has one
  for (const name of PARAM_NAMES) {
    const text = PARAMS[name].defaultText;
    if (text !== undefined) t.same(parse(name, undefined), parse(name, text), `${name}: unset means "${text}"`);
  }
});

t.test('an empty value of a parameter with a default is refused, saying how to get the default', async (t) => {
  const withDefault = PARAM_NAMES.filter((n) => PARAMS[n].defaultText !== undefined);
  for (const name of ['checkpoint_max_age', 'criu_binary', 'driver', 'keep_images', 'migration_network_suffix',
    'migration_type', 'migration_type_strict', 'require_migration_network', 'stop_timeout', 'storage'] as ParamName[]) {
    t.ok(withDefault.includes(name), `${name} has a default`);
  }
  for (const name of withDefault) {
    t.match(refusal(name, ''), refusedBy(name, `is empty; unset it to use the default "${PARAMS[name].defaultText}"`));
  }
});

t.test('an unset or empty optional parameter means "not used"', async (t) => {
  const optional = PARAM_NAMES.filter((n) => !PARAMS[n].required && PARAMS[n].defaultText === undefined);
  for (const name of ['bridge', 'command', 'gateway', 'ip', 'mac', 'migration_address', 'monitor_cmd', 'state_dir'] as ParamName[]) {
    t.ok(optional.includes(name), `${name} is optional without a default`);
  }
  for (const name of optional) {
    t.equal(parse(name, undefined), undefined, `${name} unset`);
    t.equal(parse(name, ''), undefined, `${name}=""`);
  }
});

t.test('name is the one required parameter: unset or empty is refused', async (t) => {
  t.same(PARAM_NAMES.filter((n) => PARAMS[n].required), ['name']);
  t.match(refusal('name', undefined), refusedBy('name', 'is required but not set'));
  t.match(refusal('name', ''), refusedBy('name', 'is required but not set'));
});

t.test('every parameter refuses control characters', async (t) => {
  for (const name of PARAM_NAMES) {
    const sample = SAMPLE[name];
    for (const c of CONTROL_CHARACTERS) {
      const raw = `${sample.slice(0, 2)}${c}${sample.slice(2)}`;
      t.match(refusal(name, raw), refusedBy(name, 'control characters'), `${name}=${JSON.stringify(raw)}`);
    }
    t.match(refusal(name, `${sample}\n`), refusedBy(name, 'control characters'), `${name} with a trailing newline`);
  }
});

t.test('every parameter refuses values over 4096 characters; the commands take exactly 4096', async (t) => {
  for (const name of PARAM_NAMES) {
    t.match(refusal(name, 'x'.repeat(4097)), refusedBy(name, 'longer than 4096 characters'), name);
    t.match(refusal(name, `${SAMPLE[name]}${'1'.repeat(5000)}`), refusedBy(name, 'longer than 4096'), `${name}, 5000 more`);
  }
  const longest = `echo ${'x'.repeat(4091)}`;
  t.equal(longest.length, 4096);
  t.equal(parse('command', longest), longest);
  t.equal(parse('monitor_cmd', longest), longest);
});

t.test('command and monitor_cmd are shell command lines, kept verbatim', async (t) => {
  const lines = [
    'exec /usr/bin/python3 /srv/web1/server.py --port 8080 >>/var/log/web1.log 2>&1',
    'while :; do date; sleep 1; done | logger -t web1 & wait',
    'test -f "$HOME/.ready" && echo \'ok\' || exit 1',
    'cd /srv && PATH=/opt/bin:$PATH exec `cat cmd` $(printf %s arg) ~/x *.py {a,b} [ab] #comment',
    'a\\ b; (subshell); { group; }; ! negated',
  ];
  for (const line of lines) {
    t.equal(parse('command', line), line, `command: ${line}`);
    t.equal(parse('monitor_cmd', line), line, `monitor_cmd: ${line}`);
  }
});

t.test('names, interfaces, addresses, suffixes and command names refuse shell metacharacters', async (t) => {
  const checked: ParamName[] = ['name', 'bridge', 'mac', 'ip', 'gateway', 'migration_network_suffix', 'migration_address'];
  for (const name of checked) {
    for (const c of SHELL_METACHARACTERS) {
      for (const raw of [`${SAMPLE[name]}${c}x`, `x${c}${SAMPLE[name]}`, `${SAMPLE[name]}${c}`]) {
        t.match(refusal(name, raw), refusedBy(name), `${name}=${JSON.stringify(raw)}`);
      }
    }
  }
  for (const c of SHELL_METACHARACTERS) {
    t.match(refusal('criu_binary', `criu${c}x`), refusedBy('criu_binary', 'an absolute path or a command name'), `criu_binary=criu${c}x`);
  }
  t.match(refusal('name', 'web1;reboot'), refusedBy('name', 'is not a container name'));
  t.match(refusal('name', '$(reboot)'), refusedBy('name', '"\\$\\(reboot\\)" is not a container name'), 'the message quotes the value');
});


t.test('paths (state_dir, criu_binary, authkey) refuse shell metacharacters', async (t) => {
  const accepted = (name: ParamName, base: string) => SHELL_METACHARACTERS
    .map((c) => `${base}${c}x`).filter((raw) => !refusedBy(name).test(refusal(name, raw)));
  t.same(accepted('state_dir', '/srv/ferry'), [], 'state_dir: every value with a metacharacter is refused');
  t.same(accepted('criu_binary', '/usr/sbin/criu'), [], 'criu_binary: every path with a metacharacter is refused');
  t.same(accepted('authkey', '/etc/ferry/authkey'), [], 'authkey: every path with a metacharacter is refused');
});

t.test('name: letters, digits, ".", "_", "-"; at most 63; starting with a letter or digit', async (t) => {
  for (const ok of ['web1', 'a', '9lives', 'db-01.prod_x', 'W'.repeat(63)]) t.equal(parse('name', ok), ok, ok);
  for (const bad of ['W'.repeat(64), '.hidden', '-web', '_web', '..', '.', 'a/b', '/web', 'wéb', 'web1\u200b']) {
    t.match(refusal('name', bad), refusedBy('name', 'is not a container name \\(letters, digits'), JSON.stringify(bad));
  }
});

t.test('driver: native, lxc or podman', async (t) => {
  for (const good of ['native', 'lxc', 'podman']) t.equal(parse('driver', good), good);
  for (const bad of ['docker', 'Native', 'LXC', 'native ']) {
    t.match(refusal('driver', bad), refusedBy('driver', 'is not one of: native, lxc, podman$'), bad);
  }
});

t.test('ip: an address with a prefix length, IPv4 or IPv6', async (t) => {
  t.same(parse('ip', '10.78.0.50/24'), { address: '10.78.0.50', prefix: 24 });
  t.same(parse('ip', '10.0.0.1/32'), { address: '10.0.0.1', prefix: 32 });
  t.same(parse('ip', '192.168.1.7/1'), { address: '192.168.1.7', prefix: 1 });
  t.same(parse('ip', '2001:db8::5/64'), { address: '2001:db8::5', prefix: 64 });
  t.same(parse('ip', '::1/128'), { address: '::1', prefix: 128 });
  const bad = ['10.0.0.1', '10.0.0.1/33', '300.1.1.1/24', '::1/129', '10.0.0.1/0', '10.0.0.1/', '/24', '10.0.0.1/24/8',
    'web1/24', '10.0.0/24', '10.0.0.1/-1', '10.0.0.1/2a', '10.0.0.1/ 24', '10.0.0.1/1000', '2001:db8::5', 'fe80::1::2/64',
    '10.0.0.1/255.255.255.0'];
  for (const raw of bad) t.match(refusal('ip', raw), refusedBy('ip', 'is not an address with a prefix length, like 10\\.78\\.0\\.50/24'), raw);
});

t.test('ip and gateway refuse IPv6 zone indexes, which `ip addr` and `ip route` refuse at start', async (t) => {
  // node's isIP() accepts "fe80::1%eth0"; `ip addr add fe80::9%eth0/64` fails with "any valid prefix is expected"
  t.match(refusal('ip', 'fe80::9%eth0/64'), refusedBy('ip'), 'ip=fe80::9%eth0/64');
  t.match(refusal('gateway', 'fe80::1%eth0'), refusedBy('gateway'), 'gateway=fe80::1%eth0');
});

t.test('bridge: a Linux interface name, at most 15 characters', async (t) => {
  for (const ok of ['br0', 'vmbr0.100', 'br-lan', 'br_lan', 'b'.repeat(15)]) t.equal(parse('bridge', ok), ok, ok);
  for (const bad of ['b'.repeat(16), 'br 0', 'br/0', '-br0', '.br0', 'br:0', 'brü']) {
    t.match(refusal('bridge', bad), refusedBy('bridge', 'is not a network interface name'), JSON.stringify(bad));
  }
});

t.test('mac: six colon-separated octets, unicast only', async (t) => {
  t.equal(parse('mac', '02:00:0a:4e:00:32'), '02:00:0a:4e:00:32');
  t.equal(parse('mac', '02:00:0A:4E:00:3F'), '02:00:0A:4E:00:3F', 'upper case');
  t.equal(parse('mac', '52:54:00:12:34:56'), '52:54:00:12:34:56');
  for (const multicast of ['01:00:5e:00:00:01', '03:00:00:00:00:01', '33:33:00:00:00:01', 'ff:ff:ff:ff:ff:ff', '0F:00:00:00:00:01']) {
    t.match(refusal('mac', multicast), refusedBy('mac', 'is not a unicast MAC address'), `multicast ${multicast}`);
  }
  for (const bad of ['02-00-0a-4e-00-32', '0200.0a4e.0032', '02:00:0a:4e:00', '02:00:0a:4e:00:32:11', '2:0:a:4e:0:32', '02:00:0a:4e:00:3g']) {
    t.match(refusal('mac', bad), refusedBy('mac', 'is not a unicast MAC address like 02:00:0a:4e:00:32'), bad);
  }
});

t.test('gateway: a bare IP address', async (t) => {
  for (const ok of ['10.78.0.1', 'fe80::1', '2001:db8::1']) t.equal(parse('gateway', ok), ok, ok);
  for (const bad of ['10.78.0.1/24', 'router.lan', '10.78.0', '10.78.0.256', 'fe80::1::1']) {
    t.match(refusal('gateway', bad), refusedBy('gateway', 'is not an IP address'), bad);
  }
});

t.test('state_dir: an absolute path, normalised; relative paths and "." or ".." components refused', async (t) => {
  t.equal(parse('state_dir', '/srv/shared/ferry'), '/srv/shared/ferry');
  t.equal(parse('state_dir', '/srv/shared/ferry/'), '/srv/shared/ferry', 'trailing slash dropped');
  t.equal(parse('state_dir', '//srv//shared///ferry//'), '/srv/shared/ferry', 'repeated slashes collapsed');
  t.equal(parse('state_dir', '/srv/fe..rry/.x'), '/srv/fe..rry/.x', 'dots inside a component are fine');
  for (const relative of ['srv/ferry', './srv', '../srv', '~/ferry', 'ferry']) {
    t.match(refusal('state_dir', relative), refusedBy('state_dir', 'is not an absolute path'), relative);
  }
  for (const traversal of ['/srv/../etc', '/srv/./ferry', '/srv/ferry/..', '/..', '/srv/ferry/.', '/srv//../etc']) {
    t.match(refusal('state_dir', traversal), refusedBy('state_dir', 'contains "\\." or "\\.\\." components'), traversal);
  }
  for (const root of ['/', '//', '///']) t.match(refusal('state_dir', root), refusedBy('state_dir', '"/" cannot be used'), root);
});

t.test('criu_binary: an absolute path or a bare command name', async (t) => {
  t.equal(parse('criu_binary', 'criu'), 'criu');
  t.equal(parse('criu_binary', 'criu-4.2'), 'criu-4.2');
  t.equal(parse('criu_binary', '/opt/ferry/criu/criu'), '/opt/ferry/criu/criu');
  t.equal(parse('criu_binary', '/usr//sbin/criu'), '/usr/sbin/criu');
  for (const relative of ['bin/criu', './criu', '../criu', 'criu/']) {
    t.match(refusal('criu_binary', relative), refusedBy('criu_binary', 'is not an absolute path or a command name'), relative);
  }
  for (const traversal of ['/opt/../usr/bin/criu', '/opt/./criu', '/opt/criu/..']) {
    t.match(refusal('criu_binary', traversal), refusedBy('criu_binary', 'components'), traversal);
  }
  t.match(refusal('criu_binary', 'c'.repeat(256)), refusedBy('criu_binary'), 'a command name of 256 characters');
});

t.test('criu_binary: "." and ".." are not command names', async (t) => {
  for (const raw of ['.', '..']) t.match(refusal('criu_binary', raw), refusedBy('criu_binary'), raw);
});

t.test('storage: shared, none or drbd', async (t) => {
  for (const kind of ['shared', 'none', 'drbd']) t.equal(parse('storage', kind), kind);
  t.match(refusal('storage', 'nfs'), refusedBy('storage', '"nfs" is not one of: shared, drbd, none'));
  t.match(refusal('storage', 'Shared'), refusedBy('storage', 'is not one of'));
});

t.test('DRBD parameters: a resource name, an absolute mount point, a filesystem type, plain mount options', async (t) => {
  t.equal(parse('drbd_resource', 'r0'), 'r0');
  t.match(refusal('drbd_resource', 'r0; reboot'), refusedBy('drbd_resource', 'a DRBD resource name'));
  t.equal(parse('mount_point', '/srv/drbd'), '/srv/drbd');
  t.match(refusal('mount_point', 'srv/drbd'), refusedBy('mount_point', 'absolute'));
  t.equal(parse('fstype', undefined), 'ext4');
  t.match(refusal('fstype', 'ext4 -o remount'), refusedBy('fstype', 'a filesystem type'));
  t.equal(parse('mount_options', 'noatime,commit=30'), 'noatime,commit=30');
  t.match(refusal('mount_options', 'noatime exec'), refusedBy('mount_options', 'comma-separated mount options'));
});

t.test('migration_type: the four pmigrate types', async (t) => {
  for (const type of ['simple', 'iterative', 'lazy', 'iterative+lazy']) t.equal(parse('migration_type', type), type);
  for (const bad of ['live', 'Simple', 'lazy+iterative', 'iterative lazy', 'post-copy']) {
    t.match(refusal('migration_type', bad), refusedBy('migration_type', 'is not one of: simple, iterative, lazy, iterative\\+lazy'), bad);
  }
});

t.test('booleans take the spellings ocf_is_true knows, in any case', async (t) => {
  const truthy = ['yes', 'YES', 'Yes', 'y', 'Y', 'true', 'TRUE', 'True', '1', 'on', 'ON'];
  const falsy = ['no', 'NO', 'n', 'N', 'false', 'False', '0', 'off', 'OFF'];
  for (const name of BOOLEANS) {
    t.equal(PARAMS[name].type, 'boolean', `${name} is a boolean in the metadata`);
    for (const raw of truthy) t.equal(parse(name, raw), true, `${name}=${raw}`);
    for (const raw of falsy) t.equal(parse(name, raw), false, `${name}=${raw}`);
    for (const bad of ['maybe', '2', 'enable', 'tru', 'yess', ' yes', 'yes ', '+1', '-1', 'none']) {
      t.match(refusal(name, bad), refusedBy(name, 'is not a boolean \\(use true or false\\)'), `${name}=${JSON.stringify(bad)}`);
    }
  }
});

t.test('stop_timeout: whole seconds 0..3600', async (t) => {
  t.equal(parse('stop_timeout', '0'), 0);
  t.equal(parse('stop_timeout', '10'), 10);
  t.equal(parse('stop_timeout', '3600'), 3600);
  t.match(refusal('stop_timeout', '3601'), refusedBy('stop_timeout', '3601 is out of range 0\\.\\.3600'));
  for (const huge of ['99999999999999999999', '9007199254740993', '9'.repeat(400)]) {
    t.match(refusal('stop_timeout', huge), refusedBy('stop_timeout', 'is out of range 0\\.\\.3600'), `${huge.length} digits`);
  }
  for (const bad of ['-1', '-0', '1.5', '10s', ' 10', '10 ', '0x10', '1e3', '+5', 'ten', 'NaN', 'Infinity', '١٠']) {
    t.match(refusal('stop_timeout', bad), refusedBy('stop_timeout', 'is not a whole number'), JSON.stringify(bad));
  }
});

t.test('checkpoint_max_age: whole seconds up to a week, 0 allowed', async (t) => {
  t.equal(parse('checkpoint_max_age', '0'), 0);
  t.equal(parse('checkpoint_max_age', '604800'), 7 * 24 * 3600);
  t.match(refusal('checkpoint_max_age', '604801'), refusedBy('checkpoint_max_age', 'out of range 0\\.\\.604800'));
  t.match(refusal('checkpoint_max_age', '-600'), refusedBy('checkpoint_max_age', 'is not a whole number'));
  t.match(refusal('checkpoint_max_age', '18446744073709551616'), refusedBy('checkpoint_max_age', 'out of range'));
  t.match(refusal('checkpoint_max_age', '10m'), refusedBy('checkpoint_max_age', 'is not a whole number'));
});

t.test('migration_network_suffix: an ordered comma-separated list', async (t) => {
  t.same(parse('migration_network_suffix', '.mn'), ['.mn']);
  t.same(parse('migration_network_suffix', '.mn,.mn1'), ['.mn', '.mn1']);
  t.same(parse('migration_network_suffix', '-mig,.backnet'), ['-mig', '.backnet']);
  for (const bad of ['.mn,', ',.mn', '.mn,,.x', '.mn, .x', '.mn;x', `.${'m'.repeat(63)}`, '.mn_x']) {
    t.match(refusal('migration_network_suffix', bad), refusedBy('migration_network_suffix', 'is not a comma-separated list of name suffixes'), bad);
  }
});

t.test('migration_address: a host name or address, optionally with %n', async (t) => {
  for (const ok of ['%n-mig.example.com', '10.0.0.2', 'fe80::2', 'node2.mn', 'h'.repeat(253)]) {
    t.equal(parse('migration_address', ok), ok, ok.slice(0, 40));
  }
  for (const bad of ['node 2', 'a;b', 'http://node2', 'node2/24', 'h'.repeat(254), 'nöde2']) {
    t.match(refusal('migration_address', bad), refusedBy('migration_address', 'is not a host name or address'), bad.slice(0, 40));
  }
});

t.test('the type in the metadata is the type the parser produces, for every parameter', async (t) => {
  for (const name of PARAM_NAMES) {
    const value = parse(name, SAMPLE[name]);
    const type = PARAMS[name].type;
    if (type === 'integer') t.ok(Number.isSafeInteger(value), `${name}: integer`);
    else if (type === 'boolean') t.equal(typeof value, 'boolean', `${name}: boolean`);
    else t.ok(typeof value === 'string' || typeof value === 'object', `${name}: string (or a structure parsed from one)`);
  }
  t.equal(PARAMS.stop_timeout.type, 'integer');
  t.equal(PARAMS.checkpoint_max_age.type, 'integer');
  for (const name of BOOLEANS) t.equal(PARAMS[name].type, 'boolean', name);
});

t.test('helper_port: a TCP port', async (t) => {
  t.equal(parse('helper_port', undefined), 7787);
  t.equal(parse('helper_port', '1'), 1);
  t.equal(parse('helper_port', '65535'), 65535);
  t.match(refusal('helper_port', '0'), refusedBy('helper_port', 'out of range 1\\.\\.65535'));
  t.match(refusal('helper_port', '65536'), refusedBy('helper_port', 'out of range 1\\.\\.65535'));
  t.match(refusal('helper_port', 'http'), refusedBy('helper_port', 'is not a whole number'));
});

t.test('authkey: an absolute path', async (t) => {
  t.equal(parse('authkey', undefined), '/etc/ferry/authkey');
  t.equal(parse('authkey', '/etc/ferry/other.key'), '/etc/ferry/other.key');
  t.match(refusal('authkey', 'authkey'), refusedBy('authkey', 'is not an absolute path'));
  t.match(refusal('authkey', '/etc/../root/key'), refusedBy('authkey', 'components'));
});
