/** Parameters every container has, whatever its driver and storage. */
import { absolutePath, integer, matching, oneOf, optional, required, withDefault, type ParamPart } from '../param-types.js';

export const DRIVERS = ['native', 'lxc', 'podman'] as const;
export const STORAGE_KINDS = ['shared', 'drbd', 'none'] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const COMMON_PARAMS = {
  name: required('string', {
    shortdesc: 'Container name',
    longdesc: 'Name of the container, unique in the cluster. It names the container\'s checkpoint directory under '
      + 'state_dir, its runtime state on each node and its host-side network interface, so it must stay the same '
      + 'for the life of the resource. Letters, digits, ".", "_" and "-", at most 63 characters, starting with a '
      + 'letter or digit.',
    unique: true,
  }, matching(NAME, 'a container name (letters, digits, ".", "_", "-"; at most 63; starting with a letter or digit)')),
  driver: withDefault('string', {
    shortdesc: 'Container runtime driver',
    longdesc: 'How the container is run. "native": Ferry starts the container\'s process tree itself in new PID, '
      + 'UTS, IPC and network namespaces (sharing the host filesystem), which CRIU checkpoints and restores as a '
      + 'whole. "lxc": an LXC container as its config file (config) describes it, with its root filesystem, limits '
      + 'and network; started and stopped with LXC\'s own tools (lxc-start, lxc-stop), checkpointed by Ferry\'s '
      + 'CRIU call with the options LXC\'s container needs, and restored with lxc-checkpoint -r, so that LXC owns '
      + 'it on the target as it did on the source. '
      + '"podman": podman runs the container from image (with run_opts) under runc, in a network '
      + 'namespace Ferry makes (ip, mac, bridge, gateway); podman checkpoints it with its root filesystem\'s '
      + 'changes (container checkpoint --export) and podman restores it on the target (container restore --import).',
  }, 'native', oneOf(DRIVERS)),
  state_dir: optional('string', {
    shortdesc: 'Directory for checkpoint images',
    longdesc: 'Absolute path of the directory where migrations write checkpoint images and the migration record: '
      + 'with storage=shared on storage every node can reach (NFS, GFS2, CephFS), with storage=none a local '
      + 'directory on each node (the same path everywhere, also given to ferry serve --dir). Required for live migration (allow-migrate=true); without it the resource can only '
      + 'be stopped and started. Ferry keeps its files in STATE_DIR/NAME with modes 0700/0600: images contain the '
      + 'container\'s memory, secrets included.',
  }, absolutePath),
  storage: withDefault('string', {
    shortdesc: 'How checkpoint images reach the target',
    longdesc: '"shared": state_dir is on storage every node mounts at the same time (NFS, GFS2, CephFS); the target '
      + 'reads the images the source wrote. "none": state_dir is local to each node; after the dump the source sends '
      + 'the images to the target\'s helper (`ferry serve --dir STATE_DIR`, TLS-PSK with authkey) over the migration '
      + 'network, and keeps its own copy until the target has restored. Only the checkpoint travels: the '
      + 'container\'s files must already be on the target (the native driver runs on the host filesystem). A '
      + 'checkpoint is restored on a node only after every other node holding a copy has given it up through its '
      + 'helper, so a helper that cannot be reached blocks resuming rather than risking two copies. "drbd": '
      + 'state_dir and the container\'s files are on a filesystem (mount_point) on the DRBD device of '
      + 'drbd_resource, which Ferry hands over: start promotes and mounts, stop unmounts and demotes, migrate_to '
      + 'dumps, syncs, unmounts and demotes on the source, migrate_from checks the target\'s disk is UpToDate and '
      + 'connected, promotes, mounts and restores. Ferry manages the DRBD role itself: do not also run '
      + 'ocf:linbit:drbd for the same DRBD resource.',
  }, 'shared', oneOf(STORAGE_KINDS)),
  stop_timeout: withDefault('integer', {
    shortdesc: 'Seconds to wait after SIGTERM before SIGKILL',
    longdesc: 'On stop, every process of the container gets SIGTERM; after this many seconds whatever is left is '
      + 'killed with SIGKILL. Keep it below the stop operation timeout: the agent keeps its own deadline a margin '
      + 'before that timeout (10 % of it, 2 to 30 s) and sends SIGKILL at least 2 s before its deadline whatever this '
      + 'says (driver=podman: 5 s). 0 kills at once.',
    unit: 'seconds',
  }, '10', integer(0, 3600)),
  monitor_cmd: optional('string', {
    shortdesc: 'Health check run inside the container',
    longdesc: 'Command run by /bin/sh -c inside the container\'s namespaces on every monitor (not on probes). A '
      + 'non-zero exit makes the monitor report a failure, which Pacemaker recovers by restarting the resource. '
      + 'Keep it short: it runs within the monitor timeout.',
  }, (raw) => raw),
} as const;

export const COMMON: ParamPart<typeof COMMON_PARAMS> = { title: 'Every container', appliesTo: undefined, params: COMMON_PARAMS };
