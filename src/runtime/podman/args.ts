/**
 * podman's command lines for a container of this resource, and the small texts around them (the CRIU config,
 * the target's traffic hold). Pure: tested without root or podman.
 */
import type { Config } from '../../settings/params.js';

/** The container's network namespace, made by Ferry on each node with the same name (a restore joins it by path). */
export const netnsName = (name: string): string => `ferry-${name}`;
export const netnsPath = (name: string): string => `/run/netns/${netnsName(name)}`;

/** The nft table holding a target's traffic until the restore is done (see holdRuleset). */
export const HOLD_TABLE = 'ferry-hold';

export interface Ulimits { nofile: number; nproc: number }

/**
 * podman 4.3.1 sets RLIMIT_NOFILE 1048576 itself whatever containers.conf says, and an explicit --ulimit nofile
 * alone drops the nproc default too: where root lacks CAP_SYS_RESOURCE (containers, sandboxes) runc then fails
 * "error setting rlimit". So both are always given, bounded by this process's hard limits, nproc also by 32768:
 * podman lowers conmon's own hard nproc to containers.conf's default (32768 in the lab), and any value above it
 * failed the same way (measured: 32768 works, 32769 fails). run_opts may set either instead (--ulimit nproc=N:N).
 */
export function containerUlimits(hard: Ulimits): Ulimits {
  return { nofile: Math.min(hard.nofile, 1_048_576), nproc: Math.min(hard.nproc, 32_768) };
}

/** The hard limits of /proc/self/limits ("Max open files", "Max processes"); unlimited as the cap itself. */
export function parseHardLimits(text: string): Ulimits {
  const hard = (label: string, fallback: number): number => {
    const m = new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, 'm').exec(text);
    if (!m || m[1] === 'unlimited') return fallback;
    const n = Number(m[1]);
    return Number.isSafeInteger(n) && n > 0 ? n : fallback;
  };
  return { nofile: hard('Max open files', 1_048_576), nproc: hard('Max processes', 4_194_304) };
}

/**
 * `podman run`: detached, named, in Ferry's network namespace, with runc told where CRIU's options are
 * (org.criu.config: runc passes that file to `criu swrk`, whose RPC has no way to carry the network-lock method,
 * and podman runs runc with an environment of its own, so CRIU_CONFIG_FILE does not reach it). The admin's
 * run_opts come before the image; the command, if set, runs as /bin/sh -c COMMAND.
 */
export function runArgs(config: Config, ulimits: Ulimits, criuConfig: string): string[] {
  if (!config.image) throw new Error('image is not set');
  return [
    // --pull never: a node must run the image it has (the one whose ID every node shares), never fetch one at start
    'run', '--detach', '--pull', 'never', '--name', config.name, '--network', `ns:${netnsPath(config.name)}`,
    '--annotation', `org.criu.config=${criuConfig}`,
    ...ulimitArgs(ulimits, config.run_opts ?? []),
    ...(config.run_opts ?? []),
    config.image,
    ...(config.command !== undefined ? ['/bin/sh', '-c', config.command] : []),
  ];
}

/** Ferry's nofile and nproc, but for a type run_opts sets itself. */
function ulimitArgs(ulimits: Ulimits, runOpts: readonly string[]): string[] {
  const set = runOpts.flatMap((t, i) => (t === '--ulimit' ? [runOpts[i + 1] ?? ''] : t.startsWith('--ulimit=') ? [t.slice(9)] : []))
    .map((v) => v.split('=')[0]);
  return (['nofile', 'nproc'] as const).filter((type) => !set.includes(type))
    .flatMap((type) => ['--ulimit', `${type}=${ulimits[type]}:${ulimits[type]}`]);
}

/** The checkpoint carries the root filesystem's changes and /dev/shm; the container is stopped afterwards. */
export function checkpointArgs(name: string, archive: string): string[] {
  return ['container', 'checkpoint', '--tcp-established', '--print-stats', `--export=${archive}`, name];
}

/** The archive names the container (and its ID): the restored one has the same name, ID, image and annotations. */
export function restoreArgs(archive: string): string[] {
  return ['container', 'restore', '--tcp-established', '--print-stats', `--import=${archive}`];
}

export function stopArgs(name: string, graceS: number): string[] {
  return ['stop', '--time', String(graceS), name];
}

/** The CRIU options runc's `criu swrk` reads (see runArgs): how CRIU locks the container's network while it dumps. */
export function criuConfigText(networkLock: 'iptables' | 'nftables'): string {
  return `# written by Ferry (driver=podman): read by CRIU through runc's org.criu.config\nnetwork-lock ${networkLock}\n`;
}

/**
 * Drops everything in and out of the target's fresh network namespace until the restore is done: CRIU locks the
 * source, but a target namespace with the address and no socket yet answers the client's early retransmissions
 * with RST (4 of 8 sessions broke without it in runtimes-notes.md). Priority below conntrack and CRIU's own.
 */
export function holdRuleset(): string {
  return [
    `table inet ${HOLD_TABLE} {`,
    '  chain in { type filter hook input priority -400; policy drop; }',
    '  chain out { type filter hook output priority -400; policy drop; }',
    '}',
    '',
  ].join('\n');
}
