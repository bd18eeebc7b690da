/**
 * CRIU's network-lock method follows the iptables tools as they are now, not as they were when the node's
 * capabilities were cached (once per boot): installing or removing the iptables package needs no reboot, and a
 * lock whose tools are gone would fail the dump of a frozen container. The cached entry is the one
 * src/criu/capabilities.ts writes (key, capabilities, nftablesLock); no CRIU runs when it is valid.
 */
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilities } from '../../src/criu/capabilities.js';

const work = mkdtempSync(join(tmpdir(), 'ferry-caps-'));
const runDir = join(work, 'run');
const tools = join(work, 'bin');
mkdirSync(runDir, { mode: 0o700 });
mkdirSync(tools);
const saved = { path: process.env.PATH, run: process.env.FERRY_RUN_DIR };
process.env.FERRY_RUN_DIR = runDir;
t.teardown(() => {
  process.env.PATH = saved.path;
  if (saved.run === undefined) delete process.env.FERRY_RUN_DIR; else process.env.FERRY_RUN_DIR = saved.run;
  rmSync(work, { recursive: true, force: true });
});

// a binary that is never run: a valid cache entry answers for it
const BINARY = join(work, 'criu-never-run');
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const cacheFile = join(runDir, `capabilities-${createHash('sha256').update(BINARY).digest('hex').slice(0, 12)}.json`);

function cache(networkLock: 'iptables' | 'nftables', nftablesLock: boolean): void {
  writeFileSync(cacheFile, JSON.stringify({
    key: `${bootId}:${BINARY}`,
    capabilities: { criuVersion: '4.2.1', criuCheck: { ok: true, output: 'Looks good.' }, memDirtyTrack: false, uffdNoncoop: true, networkLock, lazyTransportProblem: undefined },
    nftablesLock,
  }));
}

const iptablesInstalled = (yes: boolean) => {
  rmSync(join(tools, 'iptables-restore'), { force: true });
  if (yes) { writeFileSync(join(tools, 'iptables-restore'), '#!/bin/sh\nexit 0\n'); chmodSync(join(tools, 'iptables-restore'), 0o755); }
  process.env.PATH = tools;
};

t.test('iptables removed since the cache was written: nftables', async (t) => {
  cache('iptables', true);
  iptablesInstalled(false);
  t.equal((await capabilities(BINARY)).networkLock, 'nftables');
});

t.test('iptables installed since: iptables (what CRIU defaults to, and where its rules then live)', async (t) => {
  cache('nftables', true);
  iptablesInstalled(true);
  t.equal((await capabilities(BINARY)).networkLock, 'iptables');
});

t.test('no iptables, and a CRIU without the nftables lock: iptables, CRIU\'s default (its check will say why it fails)', async (t) => {
  cache('iptables', false);
  iptablesInstalled(false);
  t.equal((await capabilities(BINARY)).networkLock, 'iptables');
});
