/**
 * validate-all at OCF_CHECK_LEVEL=10 as the target's question, "can this node receive this container by its
 * migration_type", through the real executable: this machine's kernel has no soft-dirty tracking (iterative
 * falls back, or fails with migration_type_strict), userfaultfd works (lazy), iterative+lazy can never be done
 * strictly (a configuration error, 6), a CRIU too old for the kernel and missing DRBD tools are 5, a DRBD
 * resource this host does not define is 6. Warnings are logged, errors are one exit reason, never a stack trace.
 *
 * Stand-ins, where this machine lacks the real thing: a fake criu reporting version 3.17 (test/agent/fixtures
 * /fake-criu.sh) and a fake drbdadm replaying drbd-utils' answer for an undefined resource, as recorded in the
 * guest lab (test/unit/fixtures/drbd/unknown-resource.*), since DRBD is not installed on this host.
 */
import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scratch, agent, crashLines, criuForTests, ensureBuilt, requireRootAndTools, shown } from './fixtures/agent.js';
import { LAZY_PIPE_BYTES } from '../../src/criu/pipe-limit.js';
import { planMigration } from '../../src/migrate/plan.js';

const scratch = new Scratch('recv');
const runDir = scratch.runDir;
const stateDir = join(scratch.dir, 'shared');
const DEEP = { OCF_CHECK_LEVEL: '10' };
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let criu = '';

t.before(async () => {
  requireRootAndTools(['unshare', 'nsenter', 'setsid', 'ip', 'hostname', 'setpriv']);
  criu = await criuForTests();
  requireRootAndTools([criu]);
  mkdirSync(stateDir, { mode: 0o700 });
  t.comment(await ensureBuilt());
});
t.teardown(() => scratch.cleanup());

const params = (extra: Record<string, string> = {}) => ({ name: scratch.name(), command: scratch.command(), criu_binary: criu, state_dir: stateDir, ...extra });
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.includes('WARNING: '));

function oneReason(t: Test, r: Awaited<ReturnType<typeof agent>>, what: string): string {
  t.equal(r.reasons.length, 1, `${what}: one exit reason`, shown(r));
  t.same(crashLines(r.stderr), [], `${what}: no stack trace`);
  return r.reasons[0] ?? '';
}

t.test('iterative (the default) on a kernel without soft-dirty: 0, with a warning naming the fallback', async (t) => {
  const r = await agent('validate-all', { runDir, params: params(), env: DEEP });
  t.equal(r.code, 0, 'the node can still receive the container, by simple migration', shown(r));
  t.match(warnings(r.stderr).join('\n'), /WARNING: migration_type=iterative on this node: iterative needs soft-dirty memory tracking .*falling back to simple/);
  t.equal(r.reasons.length, 0, 'no exit reason');
});

t.test('iterative with migration_type_strict=true: 5, naming the missing kernel feature', async (t) => {
  const r = await agent('validate-all', { runDir, params: params({ migration_type: 'iterative', migration_type_strict: 'true' }), env: DEEP });
  t.equal(r.code, 5, 'OCF_ERR_INSTALLED', shown(r));
  t.match(oneReason(t, r, 'strict iterative'), /this node cannot receive iterative migrations: migration_type=iterative is not possible on this node and migration_type_strict=true: needs soft-dirty memory tracking .*CONFIG_MEM_SOFT_DIRTY/);
});

t.test('lazy with migration_type_strict=true: userfaultfd works here; the pipe limit decides, as it would for CRIU', async (t) => {
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

t.test('iterative+lazy with migration_type_strict=true: 6 if no node can do it, else 5 for this node', async (t) => {
  const r = await agent('validate-all', { runDir, params: params({ migration_type: 'iterative+lazy', migration_type_strict: 'true' }), env: DEEP });
  // whether any node could (plan.ts, tested on its own) decides whose fault it is: the configuration's or this node's
  const anywhere = planMigration('iterative+lazy', { memDirtyTrack: true, uffdNoncoop: true }, true);
  if (!anywhere.ok) {
    t.equal(r.code, 6, 'OCF_ERR_CONFIGURED: the configuration, not this node, is at fault', shown(r));
    t.equal(oneReason(t, r, 'strict iterative+lazy'), anywhere.reason);
  } else {
    t.equal(r.code, 5, 'OCF_ERR_INSTALLED: this node lacks soft-dirty', shown(r));
    t.match(oneReason(t, r, 'strict iterative+lazy'), /this node cannot receive iterative\+lazy migrations: .*soft-dirty/);
  }
  const loose = await agent('validate-all', { runDir, params: params({ migration_type: 'iterative+lazy' }), env: DEEP });
  t.equal(loose.code, 0, 'not strict: 0', shown(loose));
  t.match(warnings(loose.stderr).join('\n'), /falling back to lazy/, 'and the fallback (lazy: no soft-dirty here) is named');
});

t.test('a CRIU too old for this kernel: 5, with the version needed', async (t) => {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const [major = 0, minor = 0] = release.split('.').map(Number);
  t.ok(major > 6 || (major === 6 && minor >= 16), `this kernel (${release}) is one where CRIU before 4.2 cannot dump TCP sockets`);
  const fake = join(scratch.dir, 'criu-3.17');
  writeFileSync(fake, readFileSync(join(import.meta.dirname, 'fixtures', 'fake-criu.sh')));
  chmodSync(fake, 0o755);
  const r = await agent('validate-all', { runDir, params: params({ criu_binary: fake }), env: DEEP });
  t.equal(r.code, 5, shown(r).stderr);
  t.match(oneReason(t, r, 'old CRIU'), new RegExp(`CRIU 3\\.17 cannot checkpoint TCP sockets on kernel ${release.replace(/\./g, '\\.')}: CRIU 4\\.2 or later is needed`));
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

  const missing = await agent('validate-all', { runDir, params: drbd({}), env: DEEP });
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
  t.ok(r.ms < 3000, `fast: ${r.ms} ms`);
});
