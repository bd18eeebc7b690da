/**
 * The node's CRIU lock: native dumps take it (their parasites would collide on the node's mounts), LXC's and
 * podman's containers have their own mount namespace and do not, so an evacuation dumps them at once. A stand-in
 * `criu` reports whether the lock was held while it ran (flock -n on the same file fails then).
 */
import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Criu } from '../../src/criu/criu.js';
import { LxcDriver } from '../../src/runtime/lxc/lxc-driver.js';
import { NativeDriver } from '../../src/runtime/native/native-driver.js';
import { PodmanDriver } from '../../src/runtime/podman/podman-driver.js';
import type { Config } from '../../src/settings/params.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-criu-lock-'));
process.env.FERRY_RUN_DIR = join(dir, 'run');
const fake = join(dir, 'criu');
const report = join(dir, 'report');
writeFileSync(fake, `#!/bin/sh\nif flock -n "$FERRY_RUN_DIR/criu.lock" true; then echo free > ${report}; else echo held > ${report}; fi\necho "Dumping finished successfully"\n`);
chmodSync(fake, 0o755);

const dump = async (lock?: 'node' | 'none') => {
  await new Criu(fake).dump({ pid: 1, imagesDir: dir, networkLock: 'nftables' }, 10_000, lock);
  return readFileSync(report, 'utf8').trim();
};

t.test('a dump holds the node lock unless the driver says its containers do not need it', async (t) => {
  t.equal(await dump(), 'held', 'by default (native)');
  t.equal(await dump('node'), 'held', "lock 'node'");
  t.equal(await dump('none'), 'free', "lock 'none': CRIU runs without it");
});

t.test('which drivers need it', async (t) => {
  const config = { name: 'c1', criu_binary: 'criu' } as unknown as Config;
  t.equal(new NativeDriver(config).criuLock, 'node', 'native: the node\'s mount namespace is shared');
  t.equal(new LxcDriver({ ...config, driver: 'lxc' } as Config).criuLock, 'none', 'lxc: a mount namespace of its own');
  t.equal(new PodmanDriver(config).criuLock, 'none', 'podman: podman runs CRIU itself, in its own mounts');
});
