/**
 * driver=podman's part of the table: the image and the admin's own `podman run` options, named as
 * ocf:heartbeat:podman names them. run_opts is split into an argument array here, once: no shell ever sees it,
 * and the options Ferry must own (the network, the name, detaching, removal) are refused with the reason.
 */
import { optional, ParamError, type ParamPart, type ValuesOf } from '../param-types.js';
import type { COMMON_PARAMS } from './common.js';

/** An image reference or ID as podman takes it (localhost/ferry-rootfs:latest, sha256:703c…, registry/x@sha256:…). */
export const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$/;

/** Characters a shell would interpret: run_opts is never given to one, so an admin writing them means something else. */
const SHELL_META = /[;&|$`<>(){}*?[\]!~\\'"#]/;

/**
 * Options Ferry sets itself or that cannot survive a live migration, by long name (short aliases beside them).
 * The values are the reasons an admin reads.
 */
const OWNED: Readonly<Record<string, string>> = {
  network: 'Ferry makes the container\'s network namespace (ip, mac, bridge, gateway) and joins it with --network ns:',
  net: 'Ferry makes the container\'s network namespace (ip, mac, bridge, gateway) and joins it with --network ns:',
  'network-alias': 'the container joins Ferry\'s network namespace, not a podman network',
  ip: 'set the address with the ip parameter',
  ip6: 'set the address with the ip parameter',
  'mac-address': 'set the MAC with the mac parameter',
  publish: 'the container has its own address (ip) on the bridge; publishing ports needs a podman network',
  'publish-all': 'the container has its own address (ip) on the bridge; publishing ports needs a podman network',
  name: 'the container is named by the name parameter',
  detach: 'Ferry runs the container detached itself',
  rm: 'Ferry removes the container on stop; --rm would also remove it before a checkpoint could be exported',
  replace: 'a container of the same name is never replaced behind Pacemaker\'s back',
  restart: 'Pacemaker restarts the container, not podman',
  pod: 'a container in a pod cannot be checkpointed alone',
  pid: 'the container needs its own PID namespace to be checkpointed',
  interactive: 'the container has no terminal or stdin to keep across a migration',
  tty: 'CRIU cannot move a container with a terminal',
  attach: 'Ferry runs the container detached',
  cidfile: 'podman\'s files are Ferry\'s business here',
  'conmon-pidfile': 'podman\'s files are Ferry\'s business here',
};
const SHORT: Readonly<Record<string, string>> = { d: 'detach', i: 'interactive', t: 'tty', p: 'publish', P: 'publish-all', a: 'attach' };

function refuse(option: string, why: string): never {
  throw new Error(`${option} is not allowed in run_opts: ${why}`);
}

/** `--opt=value`, `--opt value`, `-x`, `-xyz` (flags), `-m256m`: checked by the option's name. */
function checkOption(token: string): void {
  if (token.startsWith('--')) {
    const name = token.slice(2).split('=')[0] ?? '';
    const why = OWNED[name];
    if (why) refuse(`--${name}`, why);
    return;
  }
  const cluster = token.slice(1);
  // a cluster of flags (-dit) names each; otherwise the first letter is the option and the rest its value (-m256m)
  const letters = /^[A-Za-z]+$/.test(cluster) ? [...cluster] : [cluster[0] ?? ''];
  for (const l of letters) {
    const long = SHORT[l];
    if (long) refuse(`-${l} (--${long})`, OWNED[long] ?? '');
  }
}

/** The admin's options as podman run's arguments, or an Error saying which one cannot be used and why. */
export function splitRunOpts(raw: string): string[] {
  if (SHELL_META.test(raw)) {
    throw new Error(`contains shell metacharacters (${[...new Set(raw.match(new RegExp(SHELL_META, 'g')) ?? [])].join(' ')}): run_opts is split at spaces into podman's arguments, never given to a shell, so quoting, variables and redirections cannot work`);
  }
  const tokens = raw.split(' ').filter(Boolean);
  for (const token of tokens) {
    if (token.split(/[=:,]/).some((part) => part.split('/').includes('..'))) {
      throw new Error(`"${token}" contains a ".." path component`);
    }
    if (token.startsWith('-') && token !== '-') checkOption(token);
  }
  if (tokens[0] !== undefined && !tokens[0].startsWith('-')) {
    throw new Error(`"${tokens[0]}" is not an option: run_opts holds options of podman run only (the image is the image parameter, the command the command parameter)`);
  }
  return tokens;
}

export const PODMAN_PARAMS = {
  image: optional('string', {
    shortdesc: 'Container image',
    longdesc: 'The image the container runs (a name like localhost/web1:latest, or an image ID). Required with '
      + 'driver=podman. It must be present on every node the container may run on, with the same image ID: a '
      + 'checkpoint is restored onto its image (podman imports no image during a migration and pulls none). '
      + 'validate-all with OCF_CHECK_LEVEL=10 says when this node lacks it, and a migration is refused before '
      + 'anything is frozen when the target lacks it.',
  }, (raw) => {
    if (!IMAGE_REFERENCE.test(raw) || raw.split('/').includes('..')) throw new Error(`"${raw}" is not an image name or ID`);
    return raw;
  }),
  run_opts: optional('string', {
    shortdesc: 'Extra options for podman run',
    longdesc: 'Options added to podman run, for example "--memory 256m --cpus 1" (limits move with the container). '
      + 'Split at spaces into separate arguments and never given to a shell: no quoting, no variables. Ferry sets '
      + 'the container\'s name, network (--network ns:/run/netns/ferry-NAME, made from ip, mac, bridge and '
      + 'gateway) and detaching itself, so --name, --network, --net, --ip, --mac-address, --publish, -d, --rm, '
      + '--restart, --pod, --pid, -i and -t are refused with the reason. Ferry also gives --ulimit nofile and nproc '
      + '(its own hard limits, nproc at most 32768: podman 4.3.1 fails "error setting rlimit" without them where root '
      + 'lacks CAP_SYS_RESOURCE); a --ulimit nofile=N:N or nproc=N:N here replaces Ferry\'s.',
  }, splitRunOpts),
} as const;

function podmanChecks(c: ValuesOf<typeof PODMAN_PARAMS> & ValuesOf<typeof COMMON_PARAMS>): ParamError[] {
  if (c.driver !== 'podman') return [];
  return c.image === undefined ? [new ParamError('image', 'is required with driver=podman')] : [];
}

export const PODMAN: ParamPart<typeof PODMAN_PARAMS, ValuesOf<typeof COMMON_PARAMS>> = {
  title: 'The podman driver', appliesTo: 'driver=podman', params: PODMAN_PARAMS, crossChecks: podmanChecks,
};
