/**
 * validate-all at OCF_CHECK_LEVEL=10 as the target's question, "can this node receive this container by its
 * migration_type", through the real executable. What this machine's kernel can do is asked of CRIU first
 * (criu check --feature mem_dirty_track / uffd-noncoop), and the answers expected follow from it: a type whose
 * feature is missing falls back with a warning, or fails with migration_type_strict (5); a CRIU too old for the
 * kernel and missing DRBD tools are 5, a DRBD resource this host does not define is 6. Warnings are logged,
 * errors are one exit reason, never a stack trace.
 *
 * Stand-ins, where a machine need not have the real thing: a fake criu reporting version 3.17 (test/agent
 * /fixtures/fake-criu.sh), a fake drbdadm replaying drbd-utils' answer for an undefined resource, as recorded in
 * the guest lab (test/unit/fixtures/drbd/unknown-resource.*), and a PATH without drbdadm for "not installed",
 * whether or not drbd-utils is installed here.
 */
import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Scratch, agent, crashLines, criuFeatures, criuForTests, ensureBuilt, requireRootAndTools, shown, type CriuFeatures,
} from './fixtures/agent.js';
import { LAZY_PIPE_BYTES } from '../../src/criu/pipe-limit.js';
import { planMigration } from '../../src/migrate/plan.js';

const scratch = new Scratch('recv');
const runDir = scratch.runDir;
const stateDir = join(scratch.dir, 'shared');
const DEEP = { OCF_CHECK_LEVEL: '10' };
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let criu = '';
let features: CriuFeatures = { memDirtyTrack: false, uffdNoncoop: false };

t.before(async () => {
  requireRootAndTools(['unshare', 'nsenter', 'setsid', 'ip', 'hostname', 'setpriv']);
  criu = await criuForTests();
  requireRootAndTools([criu]);
  features = await criuFeatures(criu);
  t.comment(`this kernel, as CRIU sees it: soft-dirty ${features.memDirtyTrack ? 'yes' : 'no'}, userfaultfd ${features.uffdNoncoop ? 'yes' : 'no'}`);
  mkdirSync(stateDir, { mode: 0o700 });
  t.comment(await ensureBuilt());
});
t.teardown(() => scratch.cleanup());

const params = (extra: Record<string, string> = {}) => ({ name: scratch.name(), command: scratch.command(), criu_binary: criu, state_dir: stateDir, ...extra });
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.includes('WARNING: '));

/**
 * A PATH like the agent's, as directories of links to everything in it except `command`: for "not installed" on a
 * machine where it is installed.
 */
function pathWithout(command: string): string {
  return PATH.split(':').map((dir, i) => {
    const mirror = join(scratch.dir, `path-without-${command}`, String(i));
    if (existsSync(mirror)) return mirror;
    mkdirSync(mirror, { recursive: true });
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
      if (entry === command) continue;
      try {
        if (!statSync(join(dir, entry)).isDirectory()) symlinkSync(join(dir, entry), join(mirror, entry));
      } catch { /* a dangling link: nothing to run there either */ }
    }
    return mirror;
  }).join(':');
}

function oneReason(t: Test, r: Awaited<ReturnType<typeof agent>>, what: string): string {
  t.equal(r.reasons.length, 1, `${what}: one exit reason`, shown(r));
  t.same(crashLines(r.stderr), [], `${what}: no stack trace`);
  return r.reasons[0] ?? '';
}

t.test('iterative (the default): 0; without soft-dirty with a warning naming the fallback', async (t) => {
  const r = await agent('validate-all', { runDir, params: params(), env: DEEP });
  t.equal(r.reasons.length, 0, 'no exit reason');
  if (features.memDirtyTrack) {
    t.equal(r.code, 0, 'soft-dirty here: the node can receive it iteratively', shown(r));
    t.notMatch(warnings(r.stderr).join('\n'), /falling back/, 'and nothing falls back');
  } else {
    t.equal(r.code, 0, 'no soft-dirty here: the node can still receive the container, by simple migration', shown(r));
    t.match(warnings(r.stderr).join('\n'), /WARNING: migration_type=iterative on this node: iterative needs soft-dirty memory tracking .*falling back to simple/);
  }
});

t.test('iterative with migration_type_strict=true: 0 with soft-dirty, else 5 naming the missing kernel feature', async (t) => {
  const r = await agent('validate-all', { runDir, params: params({ migration_type: 'iterative', migration_type_strict: 'true' }), env: DEEP });
  if (features.memDirtyTrack) {
    t.equal(r.code, 0, 'soft-dirty here: 0', shown(r));
    t.equal(r.reasons.length, 0, 'no exit reason');
  } else {
    t.equal(r.code, 5, 'OCF_ERR_INSTALLED', shown(r));
    t.match(oneReason(t, r, 'strict iterative'), /this node cannot receive iterative migrations: migration_type=iterative is not possible on this node and migration_type_strict=true: needs soft-dirty memory tracking .*CONFIG_MEM_SOFT_DIRTY/);
  }
});

t.test('lazy with migration_type_strict=true: 5 without userfaultfd; with it the pipe limit decides, as it would for CRIU', async (t) => {
  if (!features.uffdNoncoop) {
    for (const wrap of [['setpriv', '--bounding-set=-sys_resource', '--'], []]) {
      const r = await agent('validate-all', { runDir, params: params({ migration_type: 'lazy', migration_type_strict: 'true' }), env: DEEP, wrap });
      t.equal(r.code, 5, `no userfaultfd here: 5${wrap.length ? ' (without CAP_SYS_RESOURCE)' : ''}`, shown(r));
      t.match(oneReason(t, r, 'strict lazy'), /this node cannot receive lazy migrations: .*non-cooperative userfaultfd/);
    }
    return;
  }
  const pipeMax = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
  // without CAP_SYS_RESOURCE, as root in a container: only fs.pipe-max-size lets CRIU's page server have its pipes
  const r = await agent('validate-all', { runDir, params: params({ migration_type: 'lazy', migration_type_strict: 'true' }), env: DEEP, wrap: ['setpriv', '--bounding-set=-sys_resource', '--'] });
  if (pipeMax >= LAZY_PIPE_BYTES) {
    t.equal(r.code, 0, `fs.pipe-max-size=${pipeMax} is enough: 0`, shown(r));
    t.same(warnings(r.stderr), [], 'and nothing to warn about');
  } else {
    t.equal(r.code, 5, `fs.pipe-max-size=${pipeMax} is too low without CAP_SYS_RESOURCE: 5`, shown(r));
    t.match(oneReason(t, r, 'low pipe limit'), /sysctl -w fs\.pipe-max-size=4194304/);
  }
  const plain = await agent('validate-all', { runDir, params: params({ migration_type: 'lazy', migration_type_strict: 'true' }), env: DEEP });
  t.equal(plain.code, 0, 'with CAP_SYS_RESOURCE (root here) lazy is always possible: 0', shown(plain));
});

t.test('iterative+lazy with migration_type_strict=true: 6 if no node can do it, else 5 for this node unless it has both features', async (t) => {
  const r = await agent('validate-all', { runDir, params: params({ migration_type: 'iterative+lazy', migration_type_strict: 'true' }), env: DEEP });
  // whether any node could (plan.ts, tested on its own) decides whose fault it is: the configuration's or this node's
  const anywhere = planMigration('iterative+lazy', { memDirtyTrack: true, uffdNoncoop: true }, true);
  const both = features.memDirtyTrack && features.uffdNoncoop;
  if (!anywhere.ok) {
    t.equal(r.code, 6, 'OCF_ERR_CONFIGURED: the configuration, not this node, is at fault', shown(r));
    t.equal(oneReason(t, r, 'strict iterative+lazy'), anywhere.reason);
  } else if (both) {
    t.equal(r.code, 0, 'soft-dirty and userfaultfd here: 0', shown(r));
  } else {
    t.equal(r.code, 5, 'OCF_ERR_INSTALLED: this node lacks a feature', shown(r));
    const reason = oneReason(t, r, 'strict iterative+lazy');
    t.match(reason, /this node cannot receive iterative\+lazy migrations: /);
    if (!features.memDirtyTrack) t.match(reason, /soft-dirty/, 'names the missing soft-dirty');
    if (!features.uffdNoncoop) t.match(reason, /userfaultfd/, 'names the missing userfaultfd');
  }
  // the better half that works here, else simple (plan.ts: never a detour through a type that cannot)
  const fallback = both ? undefined : features.memDirtyTrack ? 'iterative' : features.uffdNoncoop ? 'lazy' : 'simple';
  const loose = await agent('validate-all', { runDir, params: params({ migration_type: 'iterative+lazy' }), env: DEEP });
  t.equal(loose.code, 0, 'not strict: 0', shown(loose));
  if (fallback) t.match(warnings(loose.stderr).join('\n'), new RegExp(`falling back to ${fallback}`), `and the fallback (${fallback} on this kernel) is named`);
  else t.notMatch(warnings(loose.stderr).join('\n'), /falling back/, 'nothing to fall back from on this kernel');
});

t.test('CRIU 3.17: refused (5, with the version needed) on kernels from 6.16 on, where it cannot dump TCP sockets', async (t) => {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const [major = 0, minor = 0] = release.split('.').map(Number);
  const newKernel = major > 6 || (major === 6 && minor >= 16);
  const fake = join(scratch.dir, 'criu-3.17');
  writeFileSync(fake, readFileSync(join(import.meta.dirname, 'fixtures', 'fake-criu.sh')));
  chmodSync(fake, 0o755);
  const r = await agent('validate-all', { runDir, params: params({ criu_binary: fake }), env: DEEP });
  if (newKernel) {
    t.equal(r.code, 5, `kernel ${release}: 5`, shown(r));
    t.match(oneReason(t, r, 'old CRIU'), new RegExp(`CRIU 3\\.17 cannot checkpoint TCP sockets on kernel ${release.replace(/\./g, '\\.')}: CRIU 4\\.2 or later is needed`));
  } else {
    // the refusal itself is covered on any machine by test/unit/receive-plan.test.ts
    t.equal(r.code, 0, `kernel ${release} is older than 6.16: CRIU 3.17 can dump TCP there, 0`, shown(r));
    t.notMatch(r.stderr, /cannot checkpoint TCP sockets/, 'and no word about TCP sockets');
  }
});

t.test('memory: a warning when this node has less available than the container\'s last migration moved', async (t) => {
  const p = params();
  mkdirSync(join(stateDir, p.name), { recursive: true, mode: 0o700 });
  writeFileSync(join(stateDir, p.name, 'last-migration.json'), JSON.stringify({ id: 'x', name: p.name, bytesWritten: 2 ** 50, pagesRestored: 1 }));
  const r = await agent('validate-all', { runDir, params: p, env: DEEP });
  t.equal(r.code, 0, 'memory comes and goes: not an error', shown(r));
  t.match(warnings(r.stderr).join('\n'), /this node has \d+ MiB of memory available, the container's last migration moved 1073741824 MiB/);
  writeFileSync(join(stateDir, p.name, 'last-migration.json'), JSON.stringify({ id: 'x', name: p.name, bytesWritten: 4096, pagesRestored: 1 }));
  const small = await agent('validate-all', { runDir, params: p, env: DEEP });
  t.notMatch(small.stderr, /memory available/, 'a container that fits: no warning');
});

t.test('storage=drbd: the DRBD resource must be defined for this host', async (t) => {
  const mount = join(scratch.dir, 'drbd-mnt');
  mkdirSync(mount);
  const drbd = (extra: Record<string, string>) => params({ storage: 'drbd', drbd_resource: 'r0', mount_point: mount, state_dir: join(mount, 'ferry'), ...extra });
  // state_dir is on the DRBD filesystem, not mounted on a target: that is not a failure
  t.equal(existsSync(join(mount, 'ferry')), false);

  // whether or not drbd-utils is installed here: a PATH holding everything of the usual one but drbdadm
  const missing = await agent('validate-all', { runDir, params: drbd({}), env: { ...DEEP, PATH: pathWithout('drbdadm') } });
  t.equal(missing.code, 5, 'no drbdadm on this host: 5', shown(missing));
  t.match(oneReason(t, missing, 'no drbdadm'), /storage=drbd needs drbdadm \(drbd-utils\), which is not installed on this node/);

  const bin = join(scratch.dir, 'fake-bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'drbdadm'), readFileSync(join(import.meta.dirname, 'fixtures', 'fake-drbdadm.sh')));
  chmodSync(join(bin, 'drbdadm'), 0o755);
  const env = { ...DEEP, PATH: `${bin}:${PATH}` };
  const unknown = await agent('validate-all', { runDir, params: drbd({ drbd_resource: 'nosuch' }), env });
  t.equal(unknown.code, 6, 'a resource this host does not define: 6', shown(unknown));
  t.match(oneReason(t, unknown, 'undefined resource'), /drbd_resource nosuch is not configured on this node \(drbdadm: 'nosuch' not defined in your config \(for this host\)\.\)/);

  const down = await agent('validate-all', { runDir, params: drbd({}), env });
  t.equal(down.code, 0, 'defined but down: 0', shown(down));
  t.match(warnings(down.stderr).join('\n'), /DRBD r0 is configured but not up on this node: start and migrate_from refuse until drbdadm up r0/);

  const noMount = await agent('validate-all', { runDir, params: drbd({ mount_point: join(scratch.dir, 'no-mnt'), state_dir: join(scratch.dir, 'no-mnt', 'ferry') }), env });
  t.equal(noMount.code, 5, 'mount_point missing: 5', shown(noMount));
  t.match(oneReason(t, noMount, 'no mount point'), /mount_point .*no-mnt is not a directory on this node/);

  const lazy = await agent('validate-all', { runDir, params: drbd({ migration_type: 'lazy', migration_type_strict: 'true' }), env });
  t.equal(lazy.code, 6, 'lazy on drbd, strictly: 6', shown(lazy));
  t.match(oneReason(t, lazy, 'strict lazy on drbd'), /migration_type=lazy with storage=drbd cannot be performed and migration_type_strict=true/);
});

t.test('level 0 stays about parameters: none of this runs, nothing is written', async (t) => {
  const fresh = scratch.subdir('level0-run');
  const r = await agent('validate-all', { runDir: fresh, params: params({ migration_type: 'iterative+lazy', migration_type_strict: 'true', criu_binary: '/nonexistent/criu' }) });
  t.equal(r.code, 0, 'at level 0 the same configuration is valid', shown(r));
  t.same(warnings(r.stderr), [], 'no warnings');
  t.same(readdirSync(fresh), [], 'no CRIU run, no capability cache, nothing in FERRY_RUN_DIR');
  // the same configuration fails where the node is checked: level 0 did not check it (rather than a timing)
  const deep = await agent('validate-all', { runDir: scratch.subdir('level10-run'), params: params({ migration_type: 'iterative+lazy', migration_type_strict: 'true', criu_binary: '/nonexistent/criu' }), env: DEEP });
  t.not(deep.code, 0, `at level 10 it is refused (${deep.code}: ${deep.reasons[0] ?? ''})`, shown(deep));
});
