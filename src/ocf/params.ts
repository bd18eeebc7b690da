/**
 * The one parameter table of ocf:ferry:container. Metadata XML, the man page, `OCF_RESKEY_*` parsing and
 * validation are all derived from it; parameter names are a public contract (admins write them in their CIB).
 */
import { ipFamily } from '../util/ip.js';
import {
  absolutePath, bool, integer, matching, oneOf, optional, required, withDefault,
} from './param-types.js';

export const MIGRATION_TYPES = ['simple', 'iterative', 'lazy', 'iterative+lazy'] as const;
export type MigrationType = (typeof MIGRATION_TYPES)[number];
export const STORAGE_KINDS = ['shared', 'drbd', 'none'] as const;
export const DRIVERS = ['native'] as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/i;
const SUFFIX_LIST = /^[A-Za-z0-9.-]{1,63}(,[A-Za-z0-9.-]{1,63})*$/;
const HOST_TEMPLATE = /^[A-Za-z0-9%.:_-]{1,253}$/;
const COMMAND_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}$/;
const DRBD_RESOURCE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const FSTYPE = /^[a-z0-9][a-z0-9._-]{0,31}$/;
const MOUNT_OPTIONS = /^[A-Za-z0-9_=.,:/+-]{1,255}$/;

function cidr(raw: string): { address: string; prefix: number } {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(raw);
  const family = m ? ipFamily(m[1] ?? '') : 0;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || family === 0 || prefix > (family === 4 ? 32 : 128) || (family === 4 && prefix < 1)) {
    throw new Error(`"${raw}" is not an address with a prefix length, like 10.78.0.50/24`);
  }
  return { address: m[1] as string, prefix };
}

function ipAddress(raw: string): string {
  if (ipFamily(raw) === 0) throw new Error(`"${raw}" is not an IP address`);
  return raw;
}

function executable(raw: string): string {
  if (raw === '.' || raw === '..') throw new Error(`"${raw}" is not a command name`);
  return raw.startsWith('/') ? absolutePath(raw) : matching(COMMAND_NAME, 'an absolute path or a command name')(raw);
}

function suffixList(raw: string): string[] {
  matching(SUFFIX_LIST, 'a comma-separated list of name suffixes like .mn or .mn,.mn1')(raw);
  return raw.split(',');
}

export const PARAMS = {
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
      + 'whole.',
  }, 'native', oneOf(DRIVERS)),

  command: optional('string', {
    shortdesc: 'Container init command',
    longdesc: 'Command line of the container\'s first process, run by /bin/sh -c inside the container (shell '
      + 'syntax is yours to use; Ferry never interprets it). Required with driver=native. The process becomes PID 1 '
      + 'of the container: when it exits, the container has stopped. Its standard input and output are /dev/null; '
      + 'log to a file if you need output.',
  }, (raw) => raw),

  ip: optional('string', {
    shortdesc: 'Container address (CIDR)',
    longdesc: 'Address with prefix length given to the container\'s eth0, for example 10.78.0.50/24. Needs bridge. '
      + 'The address and MAC move with the container, so peers keep talking to it after a migration; Ferry '
      + 'announces the address with a gratuitous ARP after every restore.',
  }, cidr),

  bridge: optional('string', {
    shortdesc: 'Host bridge for the container network',
    longdesc: 'Name of an existing bridge on every node that the container\'s veth joins. Without it the '
      + 'container has only a loopback interface. The bridge must connect to the same L2 segment on every node '
      + 'the container may run on, or its address will not be reachable after a migration.',
  }, matching(IFNAME, 'a network interface name')),

  mac: optional('string', {
    shortdesc: 'Container MAC address',
    longdesc: 'MAC address of the container\'s eth0 (unicast, like 02:00:0a:4e:00:32). When unset, a stable '
      + 'locally administered address is derived from name, so it is the same on every node and after every '
      + 'migration.',
  }, matching(MAC, 'a unicast MAC address like 02:00:0a:4e:00:32')),

  gateway: optional('string', {
    shortdesc: 'Default gateway of the container',
    longdesc: 'IP address of the container\'s default route. Needs ip.',
  }, ipAddress),

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

  drbd_resource: optional('string', {
    shortdesc: 'DRBD resource holding the container (storage=drbd)',
    longdesc: 'Name of the DRBD resource (as in drbdadm) whose device holds the filesystem mounted at mount_point. '
      + 'It must be configured and up on every node that may run the container, single-primary. Ferry refuses to '
      + 'promote when the peer is not connected, when this node\'s disk is not UpToDate, or in a split-brain.',
  }, matching(DRBD_RESOURCE, 'a DRBD resource name')),

  mount_point: optional('string', {
    shortdesc: 'Where the DRBD filesystem is mounted (storage=drbd)',
    longdesc: 'Absolute path where the filesystem on the DRBD device is mounted on the node running the container. '
      + 'state_dir must be inside it, so the checkpoint moves with the device.',
  }, absolutePath),

  fstype: withDefault('string', {
    shortdesc: 'Filesystem type on the DRBD device',
    longdesc: 'Passed to mount -t (storage=drbd).',
  }, 'ext4', matching(FSTYPE, 'a filesystem type such as ext4 or xfs')),

  mount_options: optional('string', {
    shortdesc: 'Mount options for the DRBD filesystem',
    longdesc: 'Passed to mount -o (storage=drbd), for example noatime.',
  }, matching(MOUNT_OPTIONS, 'comma-separated mount options')),

  migration_type: withDefault('string', {
    shortdesc: 'Live migration type',
    longdesc: 'How memory moves during a live migration, as Virtuozzo\'s pmigrate names the types. "simple": '
      + 'freeze, dump everything, restore (downtime grows with memory size). "iterative": copy memory while the '
      + 'container runs, then a short final dump (needs soft-dirty memory tracking in the kernel). "lazy": restore '
      + 'first and fetch the remaining pages on demand from the source (needs userfaultfd). "iterative+lazy": both. '
      + 'When a node pair lacks what a type needs, Ferry falls back to a simpler type and logs why, unless '
      + 'migration_type_strict is true. "iterative" copies rounds while the container runs (see max_iterations, '
      + 'converge_pages, max_growth_percent, downtime_target_ms). "lazy" needs the peers\' helpers or a resolvable '
      + 'peer name for the page server, and during its last phase the container lives on both nodes: if the '
      + 'source dies before every page has arrived, the container on the target is lost (monitor then reports it '
      + 'failed, and Pacemaker restarts it). "iterative+lazy" pre-copies, then restores at once: the target reads the '
      + 'pre-copied memory from the images and fetches only the pages written since the last round, so less memory '
      + 'depends on the source after the restore than with "lazy"; where the lazy half cannot work (storage=drbd, no '
      + 'page-server address) it is "iterative".',
  }, 'iterative', oneOf(MIGRATION_TYPES)),

  migration_type_strict: withDefault('boolean', {
    shortdesc: 'Fail instead of falling back to a simpler migration type',
    longdesc: 'When true, a migration whose migration_type cannot be performed on this node pair fails before '
      + 'anything is frozen, with the missing feature in the exit reason, instead of falling back to a simpler '
      + 'type. The container keeps running on the source.',
  }, 'false', bool),

  cpu_check_force: withDefault('boolean', {
    shortdesc: 'Migrate even when the target\'s CPU lacks features of the source\'s',
    longdesc: 'Before freezing anything, migrate_to describes this node\'s CPU with criu cpuinfo dump and has the '
      + 'target\'s helper (ferry serve) compare it with its own CPU (criu cpuinfo check --cpu-cap=fpu,ins: every '
      + 'instruction set extension and FPU/xsave feature of the source present on the target, xsave frame sizes '
      + 'equal). A mismatch fails migrate_to with the difference in the exit reason and the container keeps running '
      + 'here; Pacemaker\'s recovery then stops it and starts it afresh on the target, which a CPU difference does '
      + 'not affect. When true, the migration goes ahead anyway (logged), like pmigrate -f: a restored process that '
      + 'uses a missing instruction or FPU state then crashes on the target. Without a helper on the target the CPUs '
      + 'are not compared and the migration proceeds (ferry check reports "unknown").',
  }, 'false', bool),

  max_iterations: withDefault('integer', {
    shortdesc: 'Most pre-copy rounds of an iterative migration',
    longdesc: 'Iterative migration copies memory in rounds while the container runs; after this many rounds it '
      + 'freezes the container for the final dump whatever is left.',
  }, '8', integer(1, 64)),

  converge_pages: withDefault('integer', {
    shortdesc: 'Pages per round under which pre-copy has converged',
    longdesc: 'An iterative migration freezes for the final dump once a pre-copy round wrote at most this many '
      + 'pages (4 KiB each).',
  }, '64', integer(0, 1 << 30)),

  max_growth_percent: withDefault('integer', {
    shortdesc: 'Growth between rounds that ends pre-copy',
    longdesc: 'When a pre-copy round writes more than this percentage above the round before, the container dirties '
      + 'memory faster than it is copied: further rounds would not help, so the final dump follows.',
  }, '10', integer(0, 1000)),

  downtime_target_ms: withDefault('integer', {
    shortdesc: 'Downtime an iterative migration aims for (ms)',
    longdesc: 'Pre-copy stops as soon as the estimated downtime of the final dump (the pages the last round wrote, '
      + 'at the rate it wrote them, plus the fixed cost of freezing) is within this target.',
  }, '300', integer(1, 600_000)),

  migration_network_suffix: withDefault('string', {
    shortdesc: 'Name suffixes of the dedicated migration network',
    longdesc: 'Ordered, comma-separated list of suffixes inserted before the first dot of the peer\'s node name to '
      + 'find its address on a dedicated migration network (node2 becomes node2.mn, node2.example.com becomes '
      + 'node2.mn.example.com). The first name that resolves to a usable address is used; otherwise memory goes '
      + 'over the peer\'s plain node name and the log says why.',
  }, '.mn', suffixList),

  require_migration_network: withDefault('boolean', {
    shortdesc: 'Refuse to migrate over the back-channel',
    longdesc: 'When true, a migration fails (and the container keeps running on the source) if no migration '
      + 'network address of the peer is usable, instead of falling back to the peer\'s plain node name.',
  }, 'false', bool),

  migration_address: optional('string', {
    shortdesc: 'Explicit migration address of the peer',
    longdesc: 'Host name or address of the peer to use for migration traffic, overriding migration_network_suffix. '
      + '"%n" is replaced by the peer\'s node name, for example %n-mig.example.com.',
  }, matching(HOST_TEMPLATE, 'a host name or address (optionally with %n for the peer node name)')),

  helper_port: withDefault('integer', {
    shortdesc: 'TCP port of the ferry helper on every node',
    longdesc: 'Port where `ferry serve` listens on each node (on its migration-network and back-channel addresses). '
      + 'Ferry uses the peer\'s helper to choose the migration network (a candidate address counts only if the helper '
      + 'answers there) and for the cross-node pre-migration checks (CRIU version, clock skew).',
  }, '7787', integer(1, 65535)),

  authkey: withDefault('string', {
    shortdesc: 'Shared key of the ferry helpers',
    longdesc: 'File holding the key the helpers authenticate each other with (TLS-PSK), made by `ferry keygen` and '
      + 'copied to every node; it must be mode 0600. Like corosync\'s authkey, whoever holds it can send the helper '
      + 'images.',
  }, '/etc/ferry/authkey', absolutePath),

  criu_binary: withDefault('string', {
    shortdesc: 'Path of the CRIU executable',
    longdesc: 'CRIU binary used for checkpoint and restore, as an absolute path or a command name found in PATH. '
      + 'It must be the same version on every node. On kernels 6.16 and newer CRIU 4.2 or later is needed to '
      + 'checkpoint TCP sockets.',
  }, 'criu', executable),

  stop_timeout: withDefault('integer', {
    shortdesc: 'Seconds to wait after SIGTERM before SIGKILL',
    longdesc: 'On stop, every process of the container gets SIGTERM; after this many seconds whatever is left is '
      + 'killed with SIGKILL. Keep it below the stop operation timeout.',
  }, '10', integer(0, 3600)),

  monitor_cmd: optional('string', {
    shortdesc: 'Health check run inside the container',
    longdesc: 'Command run by /bin/sh -c inside the container\'s namespaces on every monitor (not on probes). A '
      + 'non-zero exit makes the monitor report a failure, which Pacemaker recovers by restarting the resource. '
      + 'Keep it short: it runs within the monitor timeout.',
  }, (raw) => raw),

  keep_images: withDefault('boolean', {
    shortdesc: 'Keep checkpoint images after a successful migration',
    longdesc: 'Images hold the container\'s memory, secrets included, and are removed as soon as a migration has '
      + 'succeeded. Set to true to keep them for debugging; they stay in STATE_DIR/NAME/images, mode 0700.',
  }, 'false', bool),

  checkpoint_max_age: withDefault('integer', {
    shortdesc: 'Age limit (seconds) for resuming from an unfinished migration\'s checkpoint',
    longdesc: 'When a migration fails after the container was checkpointed (for example the restore failed on '
      + 'the target), the next start restores the checkpoint instead of starting the container afresh, so '
      + 'nothing is lost. A checkpoint older than this is considered stale: it is set aside (renamed, not '
      + 'deleted) and the container starts afresh. 0 never resumes from a checkpoint.',
  }, '600', integer(0, 7 * 24 * 3600)),
} as const;

export type ParamName = keyof typeof PARAMS;
export type Config = { readonly [K in ParamName]: ReturnType<(typeof PARAMS)[K]['parse']> };
