/**
 * A failed CRIU run must explain itself in the exit reason: the last error lines of CRIU's own log, without the
 * RLIMIT_NOFILE complaint every unprivileged-looking run prints. The logs below are excerpts of real CRIU 4.2.1
 * failures on the lab machine (a dump of a PID that had gone, a restore from an empty directory). The Criu
 * class is exercised with a stand-in criu script, so no root and no real CRIU are needed.
 */
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Criu, CriuError, criuLogTail } from '../../src/criu/criu.js';
import { rejection } from './fixtures/rejection.js';

const DUMP_LOG = `(00.033027) Warn  (criu/seize.c:63): Failed to open /proc/999999/comm: No such file or directory
(00.033035) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted
(00.033368) cg:  \`- New css ID 1
(00.033387) Detected cgroup V1 freezer
(00.033390) Warn  (compel/src/lib/infect.c:132): Unable to interrupt task: 999999 (No such process)
(00.033397) net: Unlock network
(00.033402) Unfreezing tasks into 1
(00.033403) \tUnseizing 999999 into 1
(00.033404) Error (compel/src/lib/infect.c:417): Unable to detach from 999999: No such process
(00.033409) Error (criu/cr-dump.c:1975): Dumping FAILED.
`;

const RESTORE_LOG = `(00.039103) files stat: fs/nr_open 1048576
(00.039117) Will dump/restore TCP connections
(00.039132) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted
(00.039150) No inventory.img image
(00.039152) Error (criu/protobuf.c:72): Unexpected EOF on (empty-image)
`;

const RLIMIT = '(00.039132) Error (criu/util.c:1534): rlimit: Can\'t setup RLIMIT_NOFILE for self: Operation not permitted';

t.test('the tail is the last error lines, without timestamps, joined for one exit-reason line', async (t) => {
  t.equal(criuLogTail(DUMP_LOG),
    'Error (compel/src/lib/infect.c:417): Unable to detach from 999999: No such process | Error (criu/cr-dump.c:1975): Dumping FAILED.');
  t.equal(criuLogTail(DUMP_LOG, 1), 'Error (criu/cr-dump.c:1975): Dumping FAILED.');
  t.notMatch(criuLogTail(DUMP_LOG, 10), /\(\d\d\.\d+\)/, 'no timestamps');
  t.notMatch(criuLogTail(DUMP_LOG, 10), /\n/, 'one line');
});

t.test('the harmless RLIMIT_NOFILE line is dropped, even when it is among the last errors', async (t) => {
  t.equal(criuLogTail(RESTORE_LOG), 'Error (criu/protobuf.c:72): Unexpected EOF on (empty-image)');
  t.notMatch(criuLogTail(DUMP_LOG, 10), /RLIMIT_NOFILE/);
  t.equal(criuLogTail(`${RLIMIT}\n`), '', 'a log whose only error is that line has no tail');
});

t.test('no errors, no tail', async (t) => {
  t.equal(criuLogTail(''), '');
  t.equal(criuLogTail('(00.000001) Version: 4.2.1 (gitid 0)\n(00.1) Running dump\n'), '');
});

/** A stand-in criu: behaves as `mode` (a file next to it) says, and writes its log where CRIU would. */
const fakeDir = mkdtempSync(join(tmpdir(), 'ferry-fake-criu-'));
t.teardown(() => rmSync(fakeDir, { recursive: true, force: true }));
const fake = join(fakeDir, 'criu');
writeFileSync(join(fakeDir, 'dump.log.txt'), DUMP_LOG);
writeFileSync(fake, `#!/bin/sh
here=$(dirname "$0"); mode=$(cat "$here/mode"); dir=; log=; all="$*"
printf '%s\\n' "$all" > "$here/args"
while [ $# -gt 0 ]; do case "$1" in --images-dir) dir=$2; shift;; --log-file) log=$2; shift;; esac; shift; done
case "$mode" in
  dump-fails) cp "$here/dump.log.txt" "$dir/$log"; echo "Error: see the log" >&2; exit 1;;
  fails-early) echo "${RLIMIT}" >&2; echo "Error (criu/crtools.c:250): unknown option --foo" >&2; exit 2;;
  silent-fail) exit 3;;
  dump-ok) printf 'Displaying dump stats:\\nFreezing time: 442 us\\nFrozen time: 67380 us\\nMemory pages written: 5818 (0x16ba)\\n' >&2;;
  restore-ok) printf 'Displaying restore stats:\\nPages restored: 5818 (0x16ba)\\nRestore time: 28502 us\\n';;
  check) echo "${RLIMIT}" >&2; case "$all" in *uffd*) echo "uffd-noncoop is not supported" >&2; exit 1;; *) echo "Looks good.";; esac;;
  version) printf 'Version: 4.2.1\\nGitID: v4.2.1\\n';;
  hang) exec sleep 30;;
esac
`);
chmodSync(fake, 0o755);
const criu = new Criu(fake);

function images(): string {
  const dir = join(fakeDir, `images-${Math.random().toString(16).slice(2)}`);
  mkdirSync(dir);
  return dir;
}

const rejected = (p: Promise<unknown>) => rejection(p, CriuError);

const mode = (m: string) => writeFileSync(join(fakeDir, 'mode'), m);

t.test('a failed dump reports CRIU\'s exit code and the tail of dump.log', async (t) => {
  mode('dump-fails');
  const err = await rejected(criu.dump({ pid: 999999, imagesDir: images(), networkLock: 'iptables' }));
  t.equal(err.operation, 'dump');
  t.equal(err.exitCode, 1);
  t.equal(err.message, 'criu dump failed (exit 1): Error (compel/src/lib/infect.c:417): Unable to detach from 999999: '
    + 'No such process | Error (criu/cr-dump.c:1975): Dumping FAILED.');
  t.match(readFileSync(join(fakeDir, 'args'), 'utf8'), /^dump --tree 999999 /, 'the dump command line was run');
});

t.test('without a log, the reason comes from CRIU\'s stderr, still without the RLIMIT line', async (t) => {
  mode('fails-early');
  const err = await rejected(criu.restore({ imagesDir: images(), pidFile: 'pid', externals: [] }));
  t.equal(err.message, 'criu restore failed (exit 2): Error (criu/crtools.c:250): unknown option --foo');
  mode('silent-fail');
  const silent = await rejected(criu.restore({ imagesDir: images(), pidFile: 'pid', externals: [] }));
  t.equal(silent.message, 'criu restore failed (exit 3)', 'nothing to add: just the exit code');
});

t.test('successful runs return CRIU\'s stats, from whichever stream it printed them on', async (t) => {
  mode('dump-ok');
  const dump = await criu.dump({ pid: 1, imagesDir: images(), networkLock: 'nftables' });
  t.equal(dump.frozenTimeUs, 67380);
  t.equal(dump.pagesWritten, 5818);
  mode('restore-ok');
  const restore = await criu.restore({ imagesDir: images(), pidFile: 'pid', externals: ['veth[eth0]:fyabc@br0'] });
  t.equal(restore.pagesRestored, 5818);
  t.equal(restore.restoreTimeUs, 28502);
  t.match(readFileSync(join(fakeDir, 'args'), 'utf8'), /--external veth\[eth0\]:fyabc@br0/);
});

t.test('criu check: ok from the exit code, output without the RLIMIT line', async (t) => {
  mode('check');
  t.same(await criu.check(), { ok: true, output: 'Looks good.' });
  t.same(await criu.check('uffd-noncoop'), { ok: false, output: 'uffd-noncoop is not supported' });
  mode('version');
  t.equal(await criu.version(), '4.2.1');
  mode('silent-fail');
  t.equal(await criu.version(), undefined, 'no version line, no version');
});

t.test('a CRIU run that hits its time limit says it timed out', async (t) => {
  mode('hang');
  const started = Date.now();
  const err = await rejected(criu.dump({ pid: 1, imagesDir: images(), networkLock: 'iptables' }, 300));
  t.ok(Date.now() - started < 15_000, `the limit is enforced (${Date.now() - started} ms, the fake CRIU hangs for 30 s)`);
  t.match(err.message, /timed out/, 'the exit reason says the dump timed out');
});
