#!/usr/bin/env node
// ocf:ferry:container — runs the agent bundled in the package this file belongs to (symlinks resolved).
'use strict';
const fs = require('node:fs');
const { basename, join, dirname } = require('node:path');

// execa, which runs every command, needs 18.19; an older node would fail with a syntax error, not a reason
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 18 || (major === 18 && minor < 19)) {
  process.stderr.write(`ocf-exit-reason:ferry needs Node.js 18.19 or newer; ${process.execPath} is v${process.versions.node}\n`);
  process.exit(5);
}

/*
 * V8's code cache for the bundle. Compiling it is most of what a monitor without the helper costs above a bare
 * `node -e 0`, so the compiled code is kept in CACHE_DIR, keyed by this Node.js and this bundle (V8 itself rejects
 * a cache made by another V8, other flags or other source: the agent then compiles afresh and replaces it).
 * It is code the agent runs as root: only a file this user owns that no one else may write is read.
 */
const CACHE_DIR = process.env.FERRY_CACHE_DIR || '/var/cache/ferry';

function trusted(stat) {
  return stat.uid === process.getuid() && (stat.mode & 0o022) === 0;
}

function readCache(file) {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try { return trusted(fs.fstatSync(fd)) ? fs.readFileSync(fd) : null; } finally { fs.closeSync(fd); }
  } catch {
    return undefined; // none yet
  }
}

function writeCache(file, mine, data) {
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o755 });
    if (!trusted(fs.statSync(CACHE_DIR))) return;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
    fs.renameSync(tmp, file);
    // a new bundle (an upgrade, a build) makes this Node's caches of the old one useless
    for (const other of fs.readdirSync(CACHE_DIR)) {
      if (other.startsWith(mine) && other.endsWith('.v8cache') && join(CACHE_DIR, other) !== file) fs.rmSync(join(CACHE_DIR, other), { force: true });
    }
  } catch {
    // a read-only or full disk: the next run compiles again, nothing worse
  }
}

function loadBundle(filename) {
  const vm = require('node:vm');
  const Module = require('node:module');
  const source = fs.readFileSync(filename, 'utf8');
  const { size, mtimeMs, ino } = fs.statSync(filename);
  const mine = `${basename(filename, '.cjs')}-${process.version}-`;
  const cacheFile = join(CACHE_DIR, `${mine}${ino}-${size}-${Math.floor(mtimeMs)}.v8cache`);
  const cached = readCache(cacheFile);
  const script = new vm.Script(Module.wrap(source), { filename, ...(cached ? { cachedData: cached } : {}) });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(filename), module, filename, dirname(filename));
  // made after the action ran, the cache holds the functions it compiled lazily as well
  const save = cached === undefined || (cached !== null && script.cachedDataRejected)
    ? () => writeCache(cacheFile, mine, script.createCachedData()) : () => undefined;
  return { agent: module.exports, save };
}

// monitor, which Pacemaker runs every interval, has a bundle of its own that holds nothing else
const bundle = process.argv[2] === 'monitor' ? 'agent-monitor.cjs' : 'agent.cjs';
let loaded;
try {
  loaded = loadBundle(join(fs.realpathSync(__filename), '..', '..', '..', 'dist', bundle));
} catch (err) {
  process.stderr.write(`ocf-exit-reason:ferry is not built or installed correctly (${err.code || err.message})\n`);
  process.exit(5);
}
loaded.agent.main(process.argv.slice(2)).then(loaded.save);
