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

/** A whole file and its fstat, through one descriptor (no second lookup of the path between the two). */
function readWhole(file, flags = fs.constants.O_RDONLY) {
  const fd = fs.openSync(file, flags);
  try {
    const stat = fs.fstatSync(fd);
    const data = Buffer.allocUnsafe(stat.size);
    let got = 0;
    while (got < stat.size) {
      const n = fs.readSync(fd, data, got, stat.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { stat, data: got === stat.size ? data : data.subarray(0, got) };
  } finally { fs.closeSync(fd); }
}

function readCache(file) {
  try {
    const { stat, data } = readWhole(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return trusted(stat) ? data : null;
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

/**
 * The bundle's `require`: Node's built-in modules, and the bundles beside it (agent-deps.cjs). Not node:module's
 * createRequire: loading node:module loads Node's ESM loader too, which the agent never uses.
 */
function bundleRequire(dir) {
  return (id) => require(id.startsWith('./') ? join(dir, id) : id);
}

const wrap = (source) => `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;

function loadBundle(filename) {
  const vm = require('node:vm');
  const { stat: { size, mtimeMs, ino }, data } = readWhole(filename);
  const source = data.toString('utf8');
  const mine = `${basename(filename, '.cjs')}-${process.version}-`;
  const cacheFile = join(CACHE_DIR, `${mine}${ino}-${size}-${Math.floor(mtimeMs)}.v8cache`);
  const cached = readCache(cacheFile);
  const script = new vm.Script(wrap(source), { filename, ...(cached ? { cachedData: cached } : {}) });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, bundleRequire(dirname(filename)), module, filename, dirname(filename));
  // made after the action ran, the cache holds the functions it compiled lazily as well
  const save = cached === undefined || (cached !== null && script.cachedDataRejected)
    ? () => writeCache(cacheFile, mine, script.createCachedData()) : () => undefined;
  return { agent: module.exports, save };
}

// monitor, which Pacemaker runs every interval, has a bundle of its own that holds nothing else
const bundle = process.argv[2] === 'monitor' ? 'agent-monitor.cjs' : 'agent.cjs';
let loaded;
try {
  // Node names its main module by its real path: the bundle is beside it in the same release
  loaded = loadBundle(join(__dirname, '..', '..', 'dist', bundle));
} catch (err) {
  process.stderr.write(`ocf-exit-reason:ferry is not built or installed correctly (${err.code || err.message})\n`);
  process.exit(5);
}
loaded.agent.main(process.argv.slice(2)).then(loaded.save);
