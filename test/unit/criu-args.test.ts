/**
 * The CRIU command lines: what each option is there for (TCP connections survive, peers see no RSTs while
 * frozen, logs land where the failure report looks, stats come back to parse), as argument arrays that never
 * go through a shell.
 */
import t from 'tap';
import { checkArgs, dumpArgs, finalDumpArgs, lazyDumpArgs, lazyPagesArgs, preDumpArgs, restoreArgs } from '../../src/criu/args.js';

/** The value following `option`, or undefined when the option is absent. */
function valueOf(args: string[], option: string): string | undefined {
  const i = args.indexOf(option);
  return i < 0 ? undefined : args[i + 1];
}

const DUMP = { pid: 4242, imagesDir: '/srv/shared/ferry/web1/images/20250601120000-0a1b2c3d', networkLock: 'nftables' } as const;
const RESTORE = { imagesDir: '/srv/shared/ferry/web1/images/20250601120000-0a1b2c3d', pidFile: '/run/ferry/web1.restore.pid',
  externals: ['veth[eth0]:fy0123456789@br0', 'net[4026531992]:extnet'] };

t.test('dump: the container\'s tree into its images directory', async (t) => {
  const args = dumpArgs(DUMP);
  t.equal(args[0], 'dump');
  t.equal(valueOf(args, '--tree'), '4242');
  t.equal(valueOf(args, '--images-dir'), DUMP.imagesDir);
});

t.test('dump: established TCP connections are checkpointed under the chosen network lock', async (t) => {
  t.ok(dumpArgs(DUMP).includes('--tcp-established'));
  t.equal(valueOf(dumpArgs(DUMP), '--network-lock'), 'nftables');
  t.equal(valueOf(dumpArgs({ ...DUMP, networkLock: 'iptables' }), '--network-lock'), 'iptables');
});

t.test('dump and restore log verbosely to their own file in the images directory, and print stats', async (t) => {
  const dump = dumpArgs(DUMP);
  const restore = restoreArgs(RESTORE);
  t.equal(valueOf(dump, '--log-file'), 'dump.log', 'relative: CRIU puts it in the images directory');
  t.equal(valueOf(restore, '--log-file'), 'restore.log', 'a restore does not overwrite the dump\'s log');
  for (const args of [dump, restore]) {
    t.ok(args.includes('-v4'), 'full detail for the failure report');
    t.ok(args.includes('--display-stats'), 'stats for the migration summary');
  }
});

t.test('restore: detached, with TCP connections, the pidfile and every external', async (t) => {
  const args = restoreArgs(RESTORE);
  t.equal(args[0], 'restore');
  t.equal(valueOf(args, '--images-dir'), RESTORE.imagesDir);
  t.ok(args.includes('--restore-detached'), 'the restored tree must outlive CRIU and the agent');
  t.ok(args.includes('--tcp-established'));
  t.equal(valueOf(args, '--pidfile'), RESTORE.pidFile);
  const externals = args.flatMap((a, i) => (a === '--external' ? [args[i + 1]] : []));
  t.same(externals, RESTORE.externals, 'each external as its own --external, in order');
  t.notOk(restoreArgs({ ...RESTORE, externals: [] }).includes('--external'), 'none when there are none');
  t.notOk(args.includes('--tree'), 'restore takes no tree');
  t.notOk(args.includes('--action-script'), 'no action script unless asked');
  t.equal(valueOf(restoreArgs({ ...RESTORE, actionScript: '/run/ferry/criu-restore-hook' }), '--action-script'), '/run/ferry/criu-restore-hook',
    'the action script that names the root task early');
});

t.test('paths with spaces or shell syntax stay single arguments', async (t) => {
  const odd = '/srv/shared ferry/$(x);web1/images/id';
  const dump = dumpArgs({ ...DUMP, imagesDir: odd });
  t.equal(valueOf(dump, '--images-dir'), odd);
  t.equal(dump.length, dumpArgs(DUMP).length);
  const restore = restoreArgs({ ...RESTORE, imagesDir: odd, pidFile: `${odd}/pid` });
  t.equal(valueOf(restore, '--pidfile'), `${odd}/pid`);
  t.equal(restore.length, restoreArgs(RESTORE).length);
});

t.test('check: the whole check, or one feature', async (t) => {
  t.same(checkArgs(), ['check']);
  t.same(checkArgs('mem_dirty_track'), ['check', '--feature', 'mem_dirty_track']);
  t.same(checkArgs('uffd-noncoop'), ['check', '--feature', 'uffd-noncoop']);
});

t.test('pre-dump: memory only, tracked, chained to the round before when there is one', async (t) => {
  const first = preDumpArgs({ pid: 42, imagesDir: '/s/img/pre-1', parentDir: undefined });
  t.equal(first[0], 'pre-dump');
  t.equal(valueOf(first, '--tree'), '42');
  t.equal(valueOf(first, '--images-dir'), '/s/img/pre-1');
  t.ok(first.includes('--track-mem'), 'soft-dirty tracking, so the next round writes only what changed');
  t.notOk(first.includes('--prev-images-dir'), 'the first round has no parent');
  t.notOk(first.includes('--tcp-established'), 'no sockets in a pre-dump');
  t.equal(valueOf(first, '--log-file'), 'pre-dump.log', 'its own log, not the final dump\'s');
  const second = preDumpArgs({ pid: 42, imagesDir: '/s/img/pre-2', parentDir: '../pre-1' });
  t.equal(valueOf(second, '--prev-images-dir'), '../pre-1', 'relative to its images directory, as CRIU wants');
});

t.test('final dump of an iterative migration: a full dump\'s options plus the last round as parent', async (t) => {
  const args = finalDumpArgs({ pid: 7, imagesDir: '/s/img', networkLock: 'nftables', parentDir: 'pre-3' });
  t.same(args.slice(0, dumpArgs({ pid: 7, imagesDir: '/s/img', networkLock: 'nftables' }).length), dumpArgs({ pid: 7, imagesDir: '/s/img', networkLock: 'nftables' }));
  t.ok(args.includes('--track-mem'));
  t.equal(valueOf(args, '--prev-images-dir'), 'pre-3');
});

t.test('lazy dump: serves the missing pages on the given address and port, says when ready on the status fd', async (t) => {
  const args = lazyDumpArgs({ pid: 9, imagesDir: '/s/img', networkLock: 'nftables', serve: { address: '10.79.0.1', port: 40123 }, statusFd: 3 });
  t.ok(args.includes('--lazy-pages'));
  t.equal(valueOf(args, '--address'), '10.79.0.1', 'one address, never all of them');
  t.equal(valueOf(args, '--port'), '40123');
  t.equal(valueOf(args, '--status-fd'), '3');
  t.equal(valueOf(args, '--network-lock'), 'nftables', 'still a full dump otherwise');
});

t.test('iterative+lazy dump: the last round as parent (unchanged pages become holes), only the rest left lazy', async (t) => {
  const base = { pid: 9, imagesDir: '/s/img', networkLock: 'nftables' as const, serve: { address: '10.79.0.1', port: 40123 }, statusFd: 3 };
  const args = lazyDumpArgs({ ...base, parentDir: 'pre-2' });
  t.ok(args.includes('--lazy-pages'));
  t.ok(args.includes('--track-mem'), 'soft-dirty tracking tells which pages changed since the parent');
  t.equal(valueOf(args, '--prev-images-dir'), 'pre-2');
  t.equal(args.filter((a) => a === '--track-mem').length, 1);
  t.notOk(lazyDumpArgs(base).includes('--prev-images-dir'), 'plain lazy has no parent');
  t.notOk(lazyDumpArgs({ ...base, parentDir: undefined }).includes('--track-mem'));
});

t.test('lazy restore and its lazy-pages daemon share a work directory (the socket), pages come from the source', async (t) => {
  const restore = restoreArgs({ imagesDir: '/s/img', pidFile: '/run/p', externals: [], lazyWorkDir: '/run/ferry/lazy/c.work' });
  t.ok(restore.includes('--lazy-pages'));
  t.equal(valueOf(restore, '--work-dir'), '/run/ferry/lazy/c.work');
  t.notOk(restoreArgs({ imagesDir: '/s/img', pidFile: '/run/p', externals: [] }).includes('--lazy-pages'), 'not without a work dir');
  const daemon = lazyPagesArgs({ imagesDir: '/s/img', workDir: '/run/ferry/lazy/c.work', from: { address: '10.79.0.1', port: 40123 } });
  t.equal(daemon[0], 'lazy-pages');
  t.ok(daemon.includes('--page-server'), 'pages from the network, not from local images');
  t.equal(valueOf(daemon, '--address'), '10.79.0.1');
  t.equal(valueOf(daemon, '--port'), '40123');
  t.equal(valueOf(daemon, '--work-dir'), '/run/ferry/lazy/c.work');
});
