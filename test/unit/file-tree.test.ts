/** storage=none's file sync, on real trees in a temporary directory: what the final sync must carry, and where. */
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, utimesSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffTrees, walkTree } from '../../src/storage/file-tree/manifest.js';
import { removePaths, relativePathProblem } from '../../src/storage/file-tree/deletions.js';
import { activateIncoming, clearLeftovers, deactivate, incomingDir, movedDir, retireRoot, rootProblem } from '../../src/storage/file-tree/places.js';

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'ferry-tree-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'hostname'), 'c1\n');
  mkdirSync(join(root, 'var', 'log'), { recursive: true });
  writeFileSync(join(root, 'var', 'log', 'app.log'), 'one\n');
  symlinkSync('/etc', join(root, 'etc2'));
  return root;
}

t.test('an unchanged tree needs nothing', async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const before = walkTree(root);
  before.walkedAtNs = (before.walkedAtNs ?? 0n) + 5_000_000_000n; // files older than the racy window
  t.same(diffTrees(before, walkTree(root)), { changed: [], removed: [] });
});

t.test('a write, a new file, a removal, a chmod and a changed link are each seen', async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const before = walkTree(root);
  const old = before.get('var/log/app.log');
  writeFileSync(join(root, 'var', 'log', 'app.log'), 'two\n'); // same size
  // a write that puts the old mtime back is still a change: ctime cannot be set back
  if (old) utimesSync(join(root, 'var', 'log', 'app.log'), new Date(Number(old.mtimeNs / 1000000n)), new Date(Number(old.mtimeNs / 1000000n)));
  writeFileSync(join(root, 'var', 'log', 'new.log'), 'x');
  rmSync(join(root, 'etc', 'hostname'));
  chmodSync(join(root, 'var'), 0o750);
  rmSync(join(root, 'etc2'));
  symlinkSync('/var', join(root, 'etc2'));
  const d = diffTrees(before, walkTree(root));
  t.ok(d.changed.includes('var/log/app.log'), 'the rewritten file, same size and mtime');
  t.ok(d.changed.includes('var/log/new.log'), 'the new file');
  t.ok(d.changed.includes('var'), 'the chmodded directory');
  t.ok(d.changed.includes('etc2'), 'the changed link');
  t.same(d.removed, ['etc/hostname'], 'the removed file, and nothing else removed');
  t.ok(d.changed.indexOf('var') < d.changed.indexOf('var/log/new.log'), 'parents before children');
});

t.test('a directory replaced by a file: its contents and itself removed first, children before parents', async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const before = walkTree(root);
  rmSync(join(root, 'var'), { recursive: true });
  writeFileSync(join(root, 'var'), 'now a file');
  const d = diffTrees(before, walkTree(root));
  t.same(d.removed, ['var/log/app.log', 'var/log', 'var']);
  t.ok(d.changed.includes('var'));
});

t.test('removals stay inside the copy and never go through a link', async (t) => {
  const copy = tree();
  const outside = mkdtempSync(join(tmpdir(), 'ferry-outside-'));
  writeFileSync(join(outside, 'precious'), 'keep');
  symlinkSync(outside, join(copy, 'out'));
  t.teardown(() => { rmSync(copy, { recursive: true, force: true }); rmSync(outside, { recursive: true, force: true }); });
  t.equal(removePaths(copy, ['out/precious']), 0, 'a path through a link is skipped');
  t.ok(existsSync(join(outside, 'precious')), 'the file behind the link is untouched');
  t.throws(() => removePaths(copy, ['../x']), /invalid path/);
  t.throws(() => removePaths(copy, ['a//b']), /invalid path/);
  t.equal(relativePathProblem('var/log/app.log'), undefined);
  t.equal(removePaths(copy, ['var/log/app.log', 'var/log']), 2);
  t.notOk(existsSync(join(copy, 'var', 'log')));
});

t.test('places: a copy becomes ROOT only when activated, goes back on failure, and the source sets ROOT aside', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'ferry-places-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'rootfs');
  const id = '20261202030000-abc';
  t.match(rootProblem('relative/x'), /absolute/);
  t.match(rootProblem('/'), /root directory/);
  t.match(rootProblem('/a/../b'), /normalized/);
  t.throws(() => activateIncoming(root, id), /did not arrive/, 'nothing arrived, no ROOT: refused');
  mkdirSync(incomingDir(root, id));
  writeFileSync(join(incomingDir(root, id), 'marker'), 'new');
  mkdirSync(root);
  writeFileSync(join(root, 'marker'), 'stale');
  t.match(activateIncoming(root, id), /kept as/, 'a stale ROOT is set aside, not removed');
  t.equal(readFileSync(join(root, 'marker'), 'utf8'), 'new');
  t.equal(readFileSync(join(movedDir(root, id), 'marker'), 'utf8'), 'stale');
  deactivate(root, id);
  t.notOk(existsSync(root), 'after a failed restore no ROOT here');
  t.ok(existsSync(incomingDir(root, id)), 'the copy waits again');
  t.same(clearLeftovers(root).sort(), [incomingDir(root, id), movedDir(root, id)].sort(), 'a new copy clears what earlier moves left');
  mkdirSync(root);
  t.equal(retireRoot(root, id), movedDir(root, id));
  t.notOk(existsSync(root));
  renameSync(movedDir(root, id), root);
});

t.test('a file the walk saw within its clock tick is sent again even with the same times (racily clean)', async (t) => {
  const root = tree();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const before = walkTree(root);
  // every file was just written, so each is racy against this walk: all are resent, directories are not
  const d = diffTrees(before, walkTree(root));
  t.ok(d.changed.includes('etc/hostname') && d.changed.includes('var/log/app.log'), 'files written in the walk\'s second are resent');
  t.notOk(d.changed.includes('var'), 'directories are compared as usual');
  // a walk long after the writes trusts the same times
  const later = walkTree(root);
  later.walkedAtNs = (later.walkedAtNs ?? 0n) + 5_000_000_000n;
  t.same(diffTrees(later, walkTree(root)).changed, [], 'nothing resent once the files are older than the window');
});
