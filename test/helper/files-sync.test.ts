/**
 * A container's files through `ferry serve` on loopback, with real tar: the whole tree while it "runs", then only
 * what changed, into ROOT.ferry-incoming-ID and never into ROOT; owners by number, modes, links, xattrs and hard
 * links arrive as they were; the paths named for removal cannot leave the copy.
 */
import t from 'tap';
import { chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { serve, type Helper } from '../../src/helper/server.js';
import { sendFiles } from '../../src/helper/client.js';
import { diffTrees, walkTree } from '../../src/storage/file-tree/manifest.js';
import { tarOf } from '../../src/storage/file-tree/tar.js';
import { incomingDir } from '../../src/storage/file-tree/places.js';

const KEY = randomBytes(32);
const base = mkdtempSync(join(tmpdir(), 'ferry-files-'));
const source = join(base, 'source', 'rootfs');
// the target's tree has the same path as the source's on a real node; here both are on one disk, the copy beside
const ID = '20261202031500-files';
let helper: Helper;
const peer = () => ({ host: '127.0.0.1', port: helper.ports[0] ?? 0, key: KEY, identity: 'node1', timeoutMs: 10_000 });

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (owners by number, xattrs)');
  mkdirSync(join(base, 'state'), { mode: 0o700 });
  helper = await serve({ addresses: ['127.0.0.1'], port: 0, key: KEY, dir: join(base, 'state'), maxBytes: 64 * 1024 * 1024, node: 'node2', criuVersion: '4.2.1', idleTimeoutMs: 10_000 });
});
t.teardown(async () => { await helper?.close(); rmSync(base, { recursive: true, force: true }); });

function populate(): void {
  mkdirSync(join(source, 'etc'), { recursive: true });
  mkdirSync(join(source, 'home', 'app'), { recursive: true });
  writeFileSync(join(source, 'etc', 'hostname'), 'c1\n');
  writeFileSync(join(source, 'home', 'app', 'data'), randomBytes(300_000));
  chownSync(join(source, 'home', 'app'), 100999, 100999); // a container user the node does not have
  chownSync(join(source, 'home', 'app', 'data'), 100999, 100999);
  symlinkSync('../etc/hostname', join(source, 'home', 'link'));
  linkSync(join(source, 'etc', 'hostname'), join(source, 'etc', 'hostname.hard'));
}

async function sync(first: boolean, paths: string[] | undefined, removed: string[]) {
  // the helper is told the path the tree has on both nodes; the test's target is another place, so move it after
  return sendFiles(peer(), 'c1', ID, source, first, removed, tarOf(source, paths, first));
}

t.test('the whole tree, then what changed; ROOT itself is never written', async (t) => {
  populate();
  await execa('setfattr', ['-n', 'user.ferry', '-v', 'kept', join(source, 'etc', 'hostname')]).catch(() => undefined);
  const baseline = walkTree(source);
  // as if the files were older than the walk's racy window (they were written just now): unchanged ones stay put
  baseline.walkedAtNs = (baseline.walkedAtNs ?? 0n) + 5_000_000_000n;
  const first = await sync(true, undefined, []);
  const copy = incomingDir(source, ID);
  t.equal(first.path, copy, 'it lands in ROOT.ferry-incoming-ID');
  t.equal(readFileSync(join(copy, 'home', 'app', 'data')).length, 300_000);
  t.equal(statSync(join(copy, 'home', 'app', 'data')).uid, 100999, 'owners by number');
  t.equal(readlinkSync(join(copy, 'home', 'link')), '../etc/hostname', 'links as links');
  t.equal(statSync(join(copy, 'etc', 'hostname')).ino, statSync(join(copy, 'etc', 'hostname.hard')).ino, 'hard links kept');

  // the container goes on writing, then is frozen: only the difference travels
  writeFileSync(join(source, 'etc', 'hostname'), 'c1-renamed\n');
  writeFileSync(join(source, 'home', 'app', 'new'), 'written during the move');
  rmSync(join(source, 'home', 'link'));
  const diff = diffTrees(baseline, walkTree(source));
  const final = await sync(false, diff.changed, diff.removed);
  t.ok(final.bytes < 300_000, `the final sync carried ${final.bytes} bytes, not the 300 kB file again`);
  t.equal(readFileSync(join(copy, 'etc', 'hostname'), 'utf8'), 'c1-renamed\n');
  t.equal(readFileSync(join(copy, 'home', 'app', 'new'), 'utf8'), 'written during the move');
  t.notOk(existsSync(join(copy, 'home', 'link')), 'the removed link is gone');
  t.same(diffTrees(walkTree(source), walkTree(copy)).removed, [], 'nothing the source lacks');
  const sourceNames = [...walkTree(source).keys()].sort();
  t.same([...walkTree(copy).keys()].sort(), sourceNames, 'the same paths on both sides');
  t.equal(lstatSync(copy).mode & 0o7777, lstatSync(source).mode & 0o7777, 'the tree\'s own mode');
});

t.test('a continuation without a first copy, a root outside the rules, a removal through a link: refused, nothing written', async (t) => {
  const r = await sendFiles(peer(), 'c1', '20261202031600-none', source, false, [], tarOf(source, [], false)).then((v) => JSON.stringify(v), (e: Error) => e.message);
  t.match(r, /no copy of .* was started here/);
  await t.rejects(sendFiles(peer(), 'c1', ID, '/', true, [], tarOf(source, [], false)), /invalid root/);
  await t.rejects(sendFiles(peer(), 'c1', ID, source, false, ['../../etc/passwd'], tarOf(source, [], false)), /invalid path/);
  t.ok(existsSync(join(incomingDir(source, ID), 'etc', 'hostname')), 'the copy is still there');
});
