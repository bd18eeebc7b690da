/** Building CRIU command lines. Pure functions, so every option is tested without root. */
export type NetworkLock = 'iptables' | 'nftables';

export interface DumpRequest {
  pid: number;
  imagesDir: string;
  networkLock: NetworkLock;
  /** What the container's runtime needs CRIU to know (its cgroup roots, external mounts): the driver's dumpOptions. */
  runtimeOptions?: readonly string[] | undefined;
}

/** Where a lazy dump serves the pages it did not write (the source's address on the chosen network). */
export interface PageServerAddress { address: string; port: number }

export interface LazyDumpRequest extends DumpRequest {
  serve: PageServerAddress;
  /** CRIU writes a byte here once the images are complete and it starts serving pages. */
  statusFd: number;
  /**
   * iterative+lazy: the last pre-copy round (relative to imagesDir). Pages unchanged since then become holes that
   * the restore reads from that round; only the pages dirtied after it are left for the page server.
   */
  parentDir?: string | undefined;
}

export interface RestoreRequest {
  imagesDir: string;
  pidFile: string;
  /** Where the restored tree's root pid is written as soon as it exists (restore-hook.ts), long before pidFile. */
  rootPidFile?: string;
  /** CRIU's --action-script (restore-hook.ts's script, which writes rootPidFile). */
  actionScript?: string;
  externals: readonly string[];
  /** Lazy restore: memory comes from `criu lazy-pages`, whose socket is in this directory. */
  lazyWorkDir?: string;
}

export interface LazyPagesRequest {
  imagesDir: string;
  workDir: string;
  from: PageServerAddress;
}

/** Options every run shares: a log file in the images dir and stats printed for us to parse. */
function common(logFile: string): string[] {
  return ['--log-file', logFile, '-v4', '--display-stats'];
}

export function dumpArgs(r: DumpRequest): string[] {
  return [
    'dump', '--tree', String(r.pid), '--images-dir', r.imagesDir,
    // established connections are checkpointed in repair mode; the lock keeps peers from seeing RSTs meanwhile
    '--tcp-established', '--network-lock', r.networkLock,
    ...(r.runtimeOptions ?? []),
    ...common('dump.log'),
  ];
}

/** A pre-copy round: the memory dirtied since `parentDir` (relative to imagesDir), the container left running. */
export interface PreDumpRequest { pid: number; imagesDir: string; parentDir: string | undefined }

export function preDumpArgs(r: PreDumpRequest): string[] {
  return [
    'pre-dump', '--tree', String(r.pid), '--images-dir', r.imagesDir, '--track-mem',
    ...(r.parentDir ? ['--prev-images-dir', r.parentDir] : []),
    ...common('pre-dump.log'),
  ];
}

/** The final dump of an iterative migration: only what changed since the last pre-dump round. */
export function finalDumpArgs(r: DumpRequest & { parentDir: string }): string[] {
  return [...dumpArgs(r), '--track-mem', '--prev-images-dir', r.parentDir];
}

export function lazyDumpArgs(r: LazyDumpRequest): string[] {
  return [
    ...(r.parentDir ? finalDumpArgs({ ...r, parentDir: r.parentDir }) : dumpArgs(r)),
    '--lazy-pages', '--address', r.serve.address, '--port', String(r.serve.port), '--status-fd', String(r.statusFd),
  ];
}

export function restoreArgs(r: RestoreRequest): string[] {
  return [
    'restore', '--images-dir', r.imagesDir, '--restore-detached', '--tcp-established',
    '--pidfile', r.pidFile,
    ...(r.actionScript ? ['--action-script', r.actionScript] : []),
    ...r.externals.flatMap((e) => ['--external', e]),
    ...(r.lazyWorkDir ? ['--lazy-pages', '--work-dir', r.lazyWorkDir] : []),
    ...common('restore.log'),
  ];
}

/** The daemon that fetches a lazy restore's pages from the source's page server (its log goes to workDir). */
export function lazyPagesArgs(r: LazyPagesRequest): string[] {
  return [
    'lazy-pages', '--page-server', '--address', r.from.address, '--port', String(r.from.port),
    '--images-dir', r.imagesDir, '--work-dir', r.workDir, '--log-file', 'lazy-pages.log', '-v4',
  ];
}

export function checkArgs(feature?: string): string[] {
  return feature ? ['check', '--feature', feature] : ['check'];
}
