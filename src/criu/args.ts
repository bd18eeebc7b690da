/** Building CRIU command lines. Pure functions, so every option is tested without root. */
export type NetworkLock = 'iptables' | 'nftables';

export interface DumpRequest {
  pid: number;
  imagesDir: string;
  networkLock: NetworkLock;
}

export interface RestoreRequest {
  imagesDir: string;
  pidFile: string;
  externals: readonly string[];
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
    ...common('dump.log'),
  ];
}

export function restoreArgs(r: RestoreRequest): string[] {
  return [
    'restore', '--images-dir', r.imagesDir, '--restore-detached', '--tcp-established',
    '--pidfile', r.pidFile,
    ...r.externals.flatMap((e) => ['--external', e]),
    ...common('restore.log'),
  ];
}

export function checkArgs(feature?: string): string[] {
  return feature ? ['check', '--feature', feature] : ['check'];
}
