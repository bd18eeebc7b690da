/**
 * The .deb as an admin's node gets it (scripts/build-deb.sh, built here from this tree): every file the agent,
 * `ferry`, the helper and the hooks need, with root ownership and modes nobody else can write; the conffile;
 * Depends that Debian's own archive satisfies (checked against this machine's apt lists, not a copy of them)
 * and no CRIU among them; no compiled (ELF) file, as Architecture: all claims; and, unpacked, the agent prints
 * its metadata and `ferry` its help with nothing but the package's own node_modules. Then scripts/release.sh,
 * which the maintainer scripts embed: releases appear whole, current and previous are kept, the rest pruned,
 * an old flat install adopted without its paths vanishing.
 */
import t from 'tap';
import { execa } from 'execa';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO } from '../lab/lab.js';

const work = mkdtempSync(join(tmpdir(), 'ferry-deb-test-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const clean = { NODE_OPTIONS: undefined as unknown as string };

interface Entry { mode: string; owner: string; path: string; link?: string }

let deb = '';
let entries: Entry[] = [];
const unpacked = join(work, 'root');

t.before(async () => {
  const r = await execa('sh', [join(REPO, 'scripts', 'build-deb.sh'), join(work, 'out')], { env: clean, reject: false, all: true, timeout: 600_000 });
  if (r.exitCode !== 0) throw new Error(`scripts/build-deb.sh exited ${r.exitCode}:\n${r.all}`);
  deb = r.stdout.trim().split('\n').pop() ?? '';
  const listing = (await execa('dpkg-deb', ['--contents', deb])).stdout;
  // drwxr-xr-x root/root         0 2026-12-02 03:05 ./etc/   |   lrwxrwxrwx root/root 0 date time ./a -> b
  entries = listing.split('\n').filter(Boolean).map((line) => {
    const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ (.+?)(?: -> (.+))?$/.exec(line);
    if (!m) throw new Error(`unparsed dpkg-deb line: ${line}`);
    return { mode: m[1] ?? '', owner: m[2] ?? '', path: (m[3] ?? '').replace(/^\.\//, '/').replace(/\/$/, '') || '/', ...(m[4] ? { link: m[4] } : {}) };
  });
  mkdirSync(unpacked);
  await execa('dpkg-deb', ['--extract', deb, unpacked]);
});

const entry = (path: string): Entry | undefined => entries.find((e) => e.path === path);
const field = async (name: string): Promise<string> => (await execa('dpkg-deb', ['--field', deb, name])).stdout.trim();
const P = '/usr/lib/ferry/package';

t.test('name, version and architecture', async (t) => {
  t.match(deb, new RegExp(`/ferry_${pkg.version.replace(/\./g, '\\.')}_all\\.deb$`), `named ferry_${pkg.version}_all.deb`);
  t.equal(await field('Package'), 'ferry');
  t.equal(await field('Version'), pkg.version, 'the version of package.json');
  t.equal(await field('Architecture'), 'all');
  const size = Number(await field('Installed-Size'));
  t.ok(size > 1000 && size < 100_000, `Installed-Size ${size} KiB`);
});

t.test('Depends: what Ferry runs, all from Debian, CRIU not among them', async (t) => {
  const depends = (await field('Depends')).split(',').map((d) => d.trim());
  for (const needed of ['nodejs (>= 18.19)', 'util-linux', 'iproute2', 'iputils-arping', 'pacemaker-cli-utils']) {
    t.ok(depends.includes(needed), `Depends: ${needed}`);
  }
  t.ok(depends.some((d) => /\bnftables\b/.test(d)), 'Depends: nftables (CRIU\'s network lock and its cleanup)');
  t.notOk(depends.some((d) => /\bcriu\b/.test(d)), 'no CRIU in Depends (Debian 12\'s is too old on new kernels)');
  // every relation must have an alternative that a Debian bookworm archive in this machine's apt lists satisfies
  for (const relation of depends) {
    const alternatives = relation.split('|').map((a) => a.trim());
    let satisfiedBy = '';
    for (const alt of alternatives) {
      const m = /^([a-z0-9.+-]+)(?: \((>=|<=|>>|<<|=) ([^)]+)\))?$/.exec(alt);
      if (!m) { t.fail(`unparsed relation ${alt}`); continue; }
      const [, name = '', op, want] = m;
      const madison = (await execa('apt-cache', ['madison', name], { reject: false })).stdout;
      for (const line of madison.split('\n')) {
        const [, version = '', source = ''] = line.split('|').map((s) => s.trim());
        if (!/ bookworm(-updates|-security)?\//.test(` ${source.split(' ').slice(1).join(' ')}`)) continue;
        const ok = !op || (await execa('dpkg', ['--compare-versions', version, { '>=': 'ge', '<=': 'le', '>>': 'gt', '<<': 'lt', '=': 'eq' }[op] ?? 'eq', want ?? ''], { reject: false })).exitCode === 0;
        if (ok) { satisfiedBy = `${name} ${version}`; break; }
      }
      if (satisfiedBy) break;
    }
    t.ok(satisfiedBy, `${relation}: Debian bookworm has ${satisfiedBy || 'nothing that satisfies it (apt-get update?)'}`);
  }
});

t.test('control files: the conffile, maintainer scripts that parse', async (t) => {
  const ctrl = join(work, 'ctrl');
  await execa('dpkg-deb', ['--control', deb, ctrl]);
  t.equal(readFileSync(join(ctrl, 'conffiles'), 'utf8'), '/etc/default/ferry\n', 'conffiles: /etc/default/ferry only');
  for (const s of ['preinst', 'postinst', 'postrm']) {
    t.equal(lstatSync(join(ctrl, s)).mode & 0o777, 0o755, `${s} is 0755`);
    t.equal((await execa('sh', ['-n', join(ctrl, s)], { reject: false })).exitCode, 0, `${s} parses (sh -n)`);
    t.match(readFileSync(join(ctrl, s), 'utf8'), /release_activate\(\)/, `${s} embeds scripts/release.sh`);
  }
  t.match(readFileSync(join(ctrl, 'postinst'), 'utf8'), /release_activate \/usr\/lib\/ferry "[^"]+" \/usr\/lib\/ferry\/package copy/, 'postinst makes the release and switches current');
  t.match(readFileSync(join(ctrl, 'preinst'), 'utf8'), /release_adopt_legacy \/usr\/lib\/ferry/, 'preinst adopts a flat install first');
});

t.test('files, links and modes', async (t) => {
  const want: [string, string][] = [
    [`${P}/ocf/ferry/container`, '-rwxr-xr-x'], [`${P}/bin/ferry`, '-rwxr-xr-x'], [`${P}/scripts/release.sh`, '-rwxr-xr-x'],
    [`${P}/dist/agent.cjs`, '-rw-r--r--'], [`${P}/dist/agent-monitor.cjs`, '-rw-r--r--'], [`${P}/dist/agent-deps.cjs`, '-rw-r--r--'], [`${P}/heartbeat-meta.xml`, '-rw-r--r--'],
    [`${P}/package.json`, '-rw-r--r--'], [`${P}/dist/src/criu/supervise.js`, '-rw-r--r--'], [`${P}/dist/src/cli/main.js`, '-rw-r--r--'],
    ['/lib/systemd/system/ferry-serve.service', '-rw-r--r--'], ['/etc/default/ferry', '-rw-r--r--'],
    ['/usr/share/man/man7/ocf_ferry_container.7.gz', '-rw-r--r--'], ['/usr/share/man/man8/ferry.8.gz', '-rw-r--r--'],
    ['/usr/share/bash-completion/completions/ferry', '-rw-r--r--'], ['/usr/share/doc/ferry/copyright', '-rw-r--r--'],
    ['/var/lib/ferry', 'drwx------'], ['/etc/ferry', 'drwx------'],
    ...readdirSync(join(REPO, 'contrib', 'hooks')).map((h): [string, string] => [`${P}/contrib/hooks/${h}`, '-rwxr-xr-x']),
  ];
  for (const [path, mode] of want) t.equal(entry(path)?.mode, mode, `${path} ${mode}`);
  const links: [string, string][] = [
    ['/usr/lib/ocf/resource.d/ferry/container', '/usr/lib/ferry/current/ocf/ferry/container'],
    ['/usr/sbin/ferry', '/usr/lib/ferry/current/bin/ferry'],
    ['/usr/lib/ferry/contrib', 'current/contrib'],
  ];
  for (const [path, target] of links) t.equal(entry(path)?.link, target, `${path} -> ${target}`);
  t.notOk(entries.some((e) => e.path.startsWith('/usr/lib/ferry/current') || e.path.startsWith('/usr/lib/ferry/releases')),
    'current and releases/ are the maintainer scripts\', never dpkg\'s (dpkg would switch a symlink before the files behind it)');
  t.same(entries.filter((e) => e.owner !== 'root/root').map((e) => e.path), [], 'everything root/root');
  t.same(entries.filter((e) => !e.link && /^.....w|^........w/.test(e.mode)).map((e) => `${e.mode} ${e.path}`), [], 'nothing writable by group or others');
  // the compiled code: every module the build made is shipped (bench and test code are not)
  const built: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name)); else if (f.name.endsWith('.js')) built.push(relative(REPO, join(d, f.name)));
    }
  };
  walk(join(REPO, 'dist', 'src'));
  t.ok(built.length > 50, `${built.length} compiled modules in dist/src`);
  t.same(built.filter((f) => !entry(`${P}/${f}`)), [], 'every module of dist/src is in the package');
  t.notOk(entries.some((e) => e.path.startsWith(`${P}/dist/bench`) || e.path.startsWith(`${P}/dist/test`)), 'no bench or test code');
});

t.test('node_modules: the run-time dependencies only, no compiled code', async (t) => {
  for (const dep of Object.keys(pkg.dependencies)) t.ok(entry(`${P}/node_modules/${dep}/package.json`), `${dep} is shipped`);
  for (const dev of [...Object.keys(pkg.devDependencies), 'typescript', 'tap', 'esbuild']) {
    t.notOk(entries.some((e) => e.path === `${P}/node_modules/${dev}`), `${dev} (development) is not`);
  }
  const elf: string[] = [];
  const buf = Buffer.alloc(4);
  for (const e of entries) {
    if (!e.mode.startsWith('-')) continue;
    const fd = openSync(join(unpacked, e.path), 'r');
    const n = readSync(fd, buf, 0, 4, 0);
    closeSync(fd);
    if (n === 4 && buf.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) elf.push(e.path);
  }
  t.same(elf, [], 'no ELF file (Architecture: all)');
});

t.test('unpacked: the agent and ferry run on /usr/bin/node with the package\'s own modules', async (t) => {
  t.equal(readFileSync(join(unpacked, P, 'bin/ferry'), 'utf8').split('\n')[0], '#!/usr/bin/node', 'bin/ferry: #!/usr/bin/node');
  const entry = readFileSync(join(unpacked, P, 'ocf/ferry/container'), 'utf8');
  t.equal(entry.split('\n')[0], '#!/bin/sh', 'the agent\'s entry is a shell script (its fast monitor starts no Node.js)');
  t.match(entry, /^NODE=\/usr\/bin\/node /m, 'which starts /usr/bin/node for everything else');
  const meta = await execa(join(unpacked, P, 'ocf/ferry/container'), ['meta-data'], { env: clean, reject: false });
  t.equal(meta.exitCode, 0, 'the agent\'s meta-data exits 0', { stderr: meta.stderr });
  t.match(meta.stdout, /<resource-agent name="container"/, 'and prints the agent\'s metadata');
  const help = await execa(join(unpacked, P, 'bin/ferry'), ['--help'], { env: clean, reject: false });
  t.equal(help.exitCode, 0, 'ferry --help exits 0 (yargs and the rest found in the package\'s node_modules)', { stderr: help.stderr });
  t.match(help.stdout, /ferry migrate/, 'and lists the commands');
  t.match(readFileSync(join(unpacked, 'usr/share/bash-completion/completions/ferry'), 'utf8'), /complete -o .*ferry/, 'a bash completion script');
  const unit = readFileSync(join(unpacked, 'lib/systemd/system/ferry-serve.service'), 'utf8');
  t.match(unit, /EnvironmentFile=-\/etc\/default\/ferry/, 'the unit reads /etc/default/ferry');
  const settings = readFileSync(join(unpacked, 'etc/default/ferry'), 'utf8');
  for (const v of ['FERRY_LISTEN', 'FERRY_DIR', 'FERRY_CRIU']) t.match(settings, new RegExp(`\\b${v}=`), `/etc/default/ferry names ${v}, which the unit uses`);
});

t.test('scripts/release.sh: whole releases, current and previous kept, a flat install adopted', async (t) => {
  const prefix = join(work, 'prefix');
  const rel = (...args: string[]) => execa('sh', [join(REPO, 'scripts', 'release.sh'), ...args], { reject: false });
  const source = join(work, 'src-release');
  mkdirSync(join(source, 'ocf', 'ferry'), { recursive: true });
  writeFileSync(join(source, 'ocf', 'ferry', 'container'), 'one\n');
  // a flat install (the layout before releases) is adopted first, its own paths kept one more switch
  mkdirSync(join(prefix, 'ocf', 'ferry'), { recursive: true });
  writeFileSync(join(prefix, 'ocf', 'ferry', 'container'), 'flat\n');
  t.equal((await rel('adopt-legacy', prefix)).exitCode, 0, 'adopt-legacy');
  t.equal(readFileSync(join(prefix, 'current', 'ocf', 'ferry', 'container'), 'utf8'), 'flat\n', 'current is the flat install');
  const names: string[] = [];
  for (const n of ['r1', 'r2', 'r3']) {
    // as dpkg does: the new file is written beside the old one and renamed over it, never rewritten in place
    writeFileSync(join(source, 'ocf', 'ferry', 'container.new'), `${n}\n`);
    renameSync(join(source, 'ocf', 'ferry', 'container.new'), join(source, 'ocf', 'ferry', 'container'));
    const r = await rel('activate', prefix, n, source, 'copy');
    t.equal(r.exitCode, 0, `activate ${n}`, { stderr: r.stderr });
    t.equal((await rel('prune', prefix)).exitCode, 0, 'prune');
    names.push(n);
    t.equal(readlinkSync(join(prefix, 'current')), `releases/${n}`, `current -> releases/${n}`);
    t.equal(readFileSync(join(prefix, 'current', 'ocf', 'ferry', 'container'), 'utf8'), `${n}\n`, 'with its own contents');
    if (n === 'r2') t.equal(readFileSync(join(prefix, 'previous', 'ocf', 'ferry', 'container'), 'utf8'), 'r1\n', 'previous keeps r1\'s contents');
    if (n === 'r1') {
      t.ok(existsSync(join(prefix, 'ocf', 'ferry', 'container')), 'the flat paths survive the first switch (previous is the flat install)');
    }
  }
  t.equal(readlinkSync(join(prefix, 'previous')), 'releases/r2', 'previous -> releases/r2');
  t.same(readdirSync(join(prefix, 'releases')).sort(), ['r2', 'r3'], 'only current and previous are kept');
  t.notOk(existsSync(join(prefix, 'ocf')), 'the flat paths are gone after the second switch');
  t.not((await rel('activate', prefix, 'r3', source, 'copy')).exitCode, 0, 'a release name in use is refused (never rewritten under a running agent)');
  t.equal((await rel('remove', prefix)).exitCode, 0, 'remove');
  t.same(readdirSync(prefix), [], 'nothing left');
});
