/**
 * #14 finding 8, the kill half: CRIU's action script names the restored tree's root as soon as it exists, and an
 * interrupted restore's tree is found through it when CRIU never wrote its pidfile. The script is run here as CRIU
 * runs it (its environment: CRTOOLS_SCRIPT_ACTION, CRTOOLS_INIT_PID, and what Ferry passed to CRIU); the real
 * restores that rely on it are test/e2e/restore-killed.test.ts.
 */
import t from 'tap';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreHookPath, ROOT_PID_FILE_ENV } from '../../src/criu/restore-hook.js';
import { restoredRootPid } from '../../src/runtime/local-record.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-hook-'));
process.env.FERRY_RUN_DIR = join(dir, 'run');

const asCriu = (action: string, pidFile: string | undefined, initPid = '4242') => execa(restoreHookPath(), [], {
  reject: false,
  env: { CRTOOLS_SCRIPT_ACTION: action, CRTOOLS_INIT_PID: initPid, ...(pidFile ? { [ROOT_PID_FILE_ENV]: pidFile } : {}) },
});

t.test('the script: private, written once, rewritten when changed', async (t) => {
  const path = restoreHookPath();
  t.equal(statSync(path).mode & 0o777, 0o700, 'root\'s alone: CRIU runs it as root');
  t.equal(statSync(join(dir, 'run')).mode & 0o777, 0o700, 'in the private run directory');
  const before = statSync(path).mtimeMs;
  t.equal(restoreHookPath(), path);
  t.equal(statSync(path).mtimeMs, before, 'not rewritten when it is already right');
  writeFileSync(path, '#!/bin/sh\nexit 1\n');
  restoreHookPath();
  t.match(readFileSync(path, 'utf8'), /setup-namespaces/, 'a changed script is put right');
});

t.test('at setup-namespaces it writes the root task\'s pid; at every other step it does nothing', async (t) => {
  const pidFile = join(dir, 'web1.restored-root.pid');
  for (const action of ['pre-restore', 'network-lock', 'post-setup-namespaces', 'post-restore', 'pre-resume', 'post-resume', 'network-unlock']) {
    const r = await asCriu(action, pidFile);
    t.equal(r.exitCode, 0, `${action}: exit 0 (CRIU would fail the restore otherwise)`);
  }
  t.notOk(existsSync(pidFile), 'nothing written before setup-namespaces');
  const r = await asCriu('setup-namespaces', pidFile);
  t.equal(r.exitCode, 0);
  t.equal(readFileSync(pidFile, 'utf8').trim(), '4242', 'the pid CRIU gave');
  t.equal((await asCriu('setup-namespaces', undefined)).exitCode, 0, 'no file named: nothing to do, the restore goes on');
  const r2 = await asCriu('setup-namespaces', join(dir, 'no-such-dir', 'x.pid'));
  t.not(r2.exitCode, 0, 'a pid it cannot write fails the restore: a tree that could not be found after a kill must not run');
});

t.test('an interrupted restore\'s root: the pidfile first, else what the script wrote, else none', async (t) => {
  const pidFile = join(dir, 'a.pid');
  const rootPidFile = join(dir, 'a.root.pid');
  const intent = { name: 'a', pidFile, rootPidFile, migrationId: 'm', since: new Date().toISOString() };
  t.equal(restoredRootPid(intent), undefined, 'neither written: CRIU made no tree');
  writeFileSync(rootPidFile, '777\n');
  t.equal(restoredRootPid(intent), 777, 'CRIU killed before its pidfile: the early pid');
  writeFileSync(pidFile, '778\n');
  t.equal(restoredRootPid(intent), 778, 'CRIU\'s own pidfile when there is one');
  writeFileSync(pidFile, 'garbage');
  t.equal(restoredRootPid(intent), 777, 'an unreadable pidfile falls back');
  t.equal(restoredRootPid({ name: 'a', pidFile: join(dir, 'none.pid'), migrationId: 'm', since: '' }), undefined, 'an intent from before the script');
});
