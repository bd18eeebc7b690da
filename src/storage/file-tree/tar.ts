/**
 * The bytes of a tree or of some of its paths, and back, with GNU tar: owners by number (a container's users
 * are not the node's), permissions, ACLs, extended attributes (file capabilities), sparse files, hard links.
 * tar never follows a symbolic link here, and a sender never leaves the tree's filesystem.
 */
import type { Readable, Writable } from 'node:stream';
import { execa } from '../../util/third-party.js';
import { logger } from '../../util/log.js';
import { renderCommand } from '../../util/run.js';

const KEEP_EVERYTHING = ['--numeric-owner', '--acls', '--xattrs', '--xattrs-include=*', '--sparse'];

export interface TarProcess {
  stream: Readable;
  /** Resolves when tar has ended: exit 0, or 1 when `changing` (files changed while read: a later sync sends them again). */
  done: Promise<void>;
}

function finished(child: ReturnType<typeof execa>, what: string, tolerateChanges: boolean): Promise<void> {
  return Promise.resolve(child).then((r) => {
    const code = r.exitCode ?? -1;
    if (code === 0 || (tolerateChanges && code === 1)) return;
    const stderr = typeof r.stderr === 'string' ? r.stderr.trim().split('\n').slice(-3).join('; ') : '';
    throw new Error(`${what} failed (${r.signal ? `signal ${r.signal}` : `exit ${code}`})${stderr ? `: ${stderr}` : ''}`);
  });
}

/**
 * The whole tree under `root` (`paths` undefined), or exactly `paths` (relative, each alone: a directory without
 * its contents). `changing`: the tree is in use, so files changing under tar are expected.
 */
export function tarOf(root: string, paths: readonly string[] | undefined, changing: boolean): TarProcess {
  const args = ['--create', '--file=-', `--directory=${root}`, ...KEEP_EVERYTHING, '--one-file-system',
    ...(paths ? ['--no-recursion', '--null', '--files-from=-'] : ['.'])];
  logger.debug(`running: ${renderCommand('tar', args)}`);
  const child = execa('tar', args, { input: paths ? `${paths.join('\0')}\0` : '', buffer: { stdout: false, stderr: true }, reject: false });
  // execa's own readable: bytes wait here until read (subprocess.stdout itself execa may already be reading)
  return { stream: child.readable({ from: 'stdout' }), done: finished(child, `tar of ${root}`, changing) };
}

/** Unpacks a tar stream into `dir` (existing); returns where to write the bytes and when it has all ended. */
export function untarInto(dir: string): { sink: Writable; done: Promise<void>; abort: () => void } {
  const args = ['--extract', '--file=-', `--directory=${dir}`, ...KEEP_EVERYTHING, '--same-owner', '--preserve-permissions'];
  logger.debug(`running: ${renderCommand('tar', args)}`);
  const child = execa('tar', args, { stdin: 'pipe', stdout: 'ignore', reject: false });
  const sink = child.writable({ to: 'stdin' });
  sink.on('error', () => undefined); // tar died: `done` says why
  return { sink, done: finished(child, `unpacking into ${dir}`, false), abort: () => child.kill('SIGKILL') };
}
