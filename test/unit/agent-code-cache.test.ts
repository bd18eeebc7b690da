/**
 * The agent's V8 code cache (ocf/ferry/agent.cjs): made on the first run, used as it is afterwards, replaced when
 * V8 rejects it, never read when someone else could have written it, and a newer bundle's replaces the older's.
 * "Used as it is" is seen from outside: a cache V8 accepts is not written again (same inode), one it rejects is.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../lab/lab.js';

const work = mkdtempSync(join(tmpdir(), 'ferry-code-cache-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// a package of its own (the entry finds dist/ beside ocf/), so that its bundle can be touched without touching the repository's
const pkg = join(work, 'pkg');
mkdirSync(join(pkg, 'ocf', 'ferry'), { recursive: true });
mkdirSync(join(pkg, 'dist'));
copyFileSync(join(REPO, 'ocf', 'ferry', 'agent.cjs'), join(pkg, 'ocf', 'ferry', 'agent.cjs'));
for (const f of ['agent.cjs', 'agent-monitor.cjs', 'agent-deps.cjs']) copyFileSync(join(REPO, 'dist', f), join(pkg, 'dist', f));
copyFileSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
copyFileSync(join(REPO, 'heartbeat-meta.xml'), join(pkg, 'heartbeat-meta.xml'));

function metaData(cacheDir: string) {
  const r = spawnSync(process.execPath, [join(pkg, 'ocf', 'ferry', 'agent.cjs'), 'meta-data'],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FERRY_CACHE_DIR: cacheDir, OCF_ROOT: '/usr/lib/ocf' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const caches = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.v8cache'));

const reference = metaData(join(work, 'unused')).stdout;

t.test('made on the first run, 0644 in a 0755 directory, and used unchanged by the next', async (t) => {
  const dir = join(work, 'c1');
  const first = metaData(dir);
  t.equal(first.status, 0, 'meta-data succeeds');
  t.equal(first.stdout, reference, 'and prints the same metadata');
  const [file] = caches(dir);
  t.ok(file?.startsWith(`agent-${process.version}-`), `one cache, of this Node.js and the bundle of every action (${file ?? 'none'})`);
  const path = join(dir, file ?? '');
  t.equal(statSync(dir).mode & 0o777, 0o755, 'the directory is 0755');
  t.equal(statSync(path).mode & 0o777, 0o644, 'the cache is 0644');
  const before = statSync(path);
  const second = metaData(dir);
  t.equal(second.status, 0);
  t.equal(second.stdout, reference, 'the cached code prints the same metadata');
  t.equal(statSync(path).ino, before.ino, 'accepted by V8: not written again');
});

t.test('a cache V8 rejects is replaced; the action is not affected', async (t) => {
  const dir = join(work, 'c2');
  metaData(dir);
  const path = join(dir, caches(dir)[0] ?? '');
  writeFileSync(path, Buffer.alloc(4096, 7), { mode: 0o644 });
  const r = metaData(dir);
  t.equal(r.status, 0, 'meta-data succeeds');
  t.equal(r.stdout, reference, 'with the same output');
  t.not(readFileSync(path).subarray(0, 64).toString('hex'), Buffer.alloc(64, 7).toString('hex'), 'the garbage was replaced by a real cache');
});

t.test('a cache others may write is never read (nor replaced); nor is a directory others may write used', async (t) => {
  const dir = join(work, 'c3');
  metaData(dir);
  const path = join(dir, caches(dir)[0] ?? '');
  writeFileSync(path, Buffer.alloc(4096, 7));
  chmodSync(path, 0o664);
  const before = statSync(path);
  t.equal(metaData(dir).stdout, reference, 'the action still works');
  t.equal(statSync(path).ino, before.ino, 'not replaced: it was not read (read, V8 would have rejected it and the agent replaced it)');

  const open = join(work, 'c4');
  mkdirSync(open);
  chmodSync(open, 0o777);
  t.equal(metaData(open).stdout, reference, 'the action works');
  t.same(caches(open), [], 'no cache written where others may write');
});

t.test('a new bundle: a cache of its own, and the old one of this Node.js removed', async (t) => {
  const dir = join(work, 'c5');
  metaData(dir);
  const [old] = caches(dir);
  const future = new Date(Date.now() + 60_000);
  utimesSync(join(pkg, 'dist', 'agent.cjs'), future, future);
  t.equal(metaData(dir).stdout, reference);
  const now = caches(dir);
  t.equal(now.length, 1, 'one cache');
  t.not(now[0], old, 'the new bundle\'s');
});

t.test('through the cached bundle the agent runs commands too (execa, winston: loaded on first use)', async (t) => {
  t.notMatch(readFileSync(join(REPO, 'dist', 'agent.cjs'), 'utf8'), /[^\w$.]import\(/, 'no real import() in the bundle: vm.Script, which compiles it, cannot serve one');
  const dir = join(work, 'c6');
  const runDir = join(work, 'run');
  const stateDir = join(work, 'state');
  mkdirSync(stateDir);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', FERRY_CACHE_DIR: dir, FERRY_RUN_DIR: runDir, OCF_ROOT: '/usr/lib/ocf',
    OCF_RESOURCE_INSTANCE: 'cc1', OCF_RESKEY_name: `ferry-cc-${process.pid}`, OCF_RESKEY_command: 'exec sleep 1000', OCF_RESKEY_state_dir: stateDir,
    OCF_RESKEY_criu_binary: process.env.FERRY_TEST_CRIU ?? '/opt/ferry/criu/criu', OCF_RESKEY_CRM_meta_timeout: '20000', FERRY_SLOW_MONITOR: '1',
  };
  const action = (name: string) => spawnSync(process.execPath, [join(pkg, 'ocf', 'ferry', 'agent.cjs'), name], { encoding: 'utf8', env });
  // what Node.js loaded for a monitor, written at its exit by a preloaded module
  const loadedFile = join(work, 'monitor-modules');
  const preload = join(work, 'list-modules.cjs');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loadedFile)}, process.moduleLoadList.join('\\n')));`);
  for (const round of ['without a cache', 'with the cache']) {
    const start = action('start');
    t.equal(start.status, 0, `${round}: start (${start.stderr.trim().split('\n').pop() ?? ''})`);
    t.equal(action('monitor').status, 0, `${round}: monitor`);
    // tap hands its own loader to every child through NODE_OPTIONS, which would list its modules too: not this one
    const listed = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, '-r', preload, join(pkg, 'ocf', 'ferry', 'agent.cjs'), 'monitor'], { encoding: 'utf8', env });
    t.equal(listed.status, 0, `${round}: monitor, its modules listed`);
    const modules = readFileSync(loadedFile, 'utf8').split('\n');
    // the list's own format, on this Node.js: the code cache needs node:vm, so it is listed (else the checks below say nothing)
    t.ok(modules.includes('NativeModule vm'), `${round}: the listing names node:vm, which the launcher loads`);
    // each costs every monitor without the helper a share of a millisecond or more (bench/monitor.ts)
    for (const costly of ['module', 'crypto', 'net', 'internal/modules/esm/loader']) {
      t.notOk(modules.includes(`NativeModule ${costly}`), `${round}: the monitor of a running container does not load node:${costly}`);
    }
    t.equal(action('stop').status, 0, `${round}: stop`);
    t.equal(action('monitor').status, 7, `${round}: stopped`);
  }
  t.same(caches(dir).map((f) => f.split(`-${process.version}-`)[0]).sort(), ['agent', 'agent-monitor'], 'a cache of each bundle: every action\'s, and monitor\'s own');
});
