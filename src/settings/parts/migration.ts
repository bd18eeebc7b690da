/** How a live migration runs: its type and convergence, the network and helpers it uses, CRIU, the checkpoints. */
import { absolutePath, bool, integer, matching, oneOf, optional, withDefault, type ParamPart } from '../param-types.js';
import { executable } from '../values.js';

export const MIGRATION_TYPES = ['simple', 'iterative', 'lazy', 'iterative+lazy'] as const;
export type MigrationType = (typeof MIGRATION_TYPES)[number];

const SUFFIX_LIST = /^[A-Za-z0-9.-]{1,63}(,[A-Za-z0-9.-]{1,63})*$/;
const HOST_TEMPLATE = /^[A-Za-z0-9%.:_-]{1,253}$/;

function suffixList(raw: string): string[] {
  matching(SUFFIX_LIST, 'a comma-separated list of name suffixes like .mn or .mn,.mn1')(raw);
  return raw.split(',');
}

export const MIGRATION_PARAMS = {
  migration_type: withDefault('string', {
    shortdesc: 'Live migration type',
    longdesc: 'How memory moves during a live migration, as Virtuozzo\'s pmigrate names the types. "simple": '
      + 'freeze, dump everything, restore (downtime grows with memory size). "iterative": copy memory while the '
      + 'container runs, then a short final dump (needs soft-dirty memory tracking in the kernel). "lazy": restore '
      + 'first and fetch the remaining pages on demand from the source (needs userfaultfd). "iterative+lazy": both. '
      + 'When a node pair lacks what a type needs, Ferry falls back to a simpler type and logs why, unless '
      + 'migration_type_strict is true. "iterative" copies rounds while the container runs (see max_iterations, '
      + 'converge_pages, max_growth_percent, migration_downtime). "lazy" needs the peers\' helpers or a resolvable '
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
      + 'uses a missing instruction or FPU state then crashes on the target. When the CPUs cannot be compared (no '
      + 'helper answers on the target, no authkey here, this CRIU cannot describe the CPU) migrate_to refuses the same '
      + 'way, naming why (fail closed); with cpu_check_force=true it goes ahead and logs a warning that the CPUs were '
      + 'not compared.',
  }, 'false', bool),
  migration_speed: withDefault('integer', {
    shortdesc: 'Most bytes per second a migration sends between the nodes',
    longdesc: 'A limit on what Ferry sends to the target during a migration, as VirtualDomain\'s migration_speed: '
      + 'with storage=none the checkpoint images, the pre-copy rounds and the container\'s files, through the '
      + 'helpers\' channel. 0 is no limit. Set it when the migration traffic may share a link with corosync (the '
      + 'back-channel, which Ferry uses when the migration network is unusable, and says so in a warning): a transfer '
      + 'at full speed there can delay corosync\'s token until the node is fenced in the middle of the move. With a '
      + 'limit, lazy migration falls back to its non-lazy half (CRIU\'s page server sends at full speed and cannot be '
      + 'paced), or fails with migration_type_strict. With storage=shared the images go through the shared '
      + 'filesystem, which Ferry does not pace.',
    unit: 'MiB/s',
  }, '0', integer(0, 1_000_000)),
  max_iterations: withDefault('integer', {
    shortdesc: 'Most pre-copy rounds of an iterative migration',
    longdesc: 'Iterative migration copies memory in rounds while the container runs; after this many rounds it '
      + 'freezes the container for the final dump whatever is left.',
    unit: 'pre-copy rounds',
  }, '8', integer(1, 64)),
  converge_pages: withDefault('integer', {
    shortdesc: 'Pages per round under which pre-copy has converged',
    longdesc: 'An iterative migration freezes for the final dump once a pre-copy round wrote at most this many '
      + 'pages (4 KiB each).',
    unit: '4 KiB memory pages',
  }, '64', integer(0, 1 << 30)),
  max_growth_percent: withDefault('integer', {
    shortdesc: 'Growth between rounds that ends pre-copy',
    longdesc: 'When a pre-copy round writes more than this percentage above the round before, the container dirties '
      + 'memory faster than it is copied: further rounds would not help, so the final dump follows.',
    unit: 'percent',
  }, '10', integer(0, 1000)),
  migration_downtime: withDefault('integer', {
    shortdesc: 'Downtime an iterative migration aims for (ms)',
    longdesc: 'Pre-copy stops as soon as the estimated downtime of the final dump (the pages the last round wrote, '
      + 'at the rate it wrote them, plus the fixed cost of freezing) is within this target, in milliseconds; '
      + 'VirtualDomain\'s parameter of the same name sets the same bound for a VM\'s live migration. It is an aim, '
      + 'not a guarantee: max_iterations and max_growth_percent can end pre-copy first, and the restore and '
      + 'Pacemaker\'s hand-over between migrate_to and migrate_from add to the pause. Formerly downtime_target_ms.',
    unit: 'milliseconds',
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
      + 'answers there) and for the cross-node pre-migration checks (CRIU version, clock skew). The same on every node '
      + '(ferry serve --port, FERRY_PORT in /etc/default/ferry).',
    unit: 'TCP port number',
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
  keep_images: withDefault('boolean', {
    shortdesc: 'Keep checkpoint images after a successful migration',
    longdesc: 'Images hold the container\'s memory, secrets included, and are removed as soon as a migration has '
      + 'succeeded or its checkpoint is set aside. Set to true to keep them for debugging; they stay in '
      + 'STATE_DIR/NAME/images, mode 0700, until removed by hand.',
  }, 'false', bool),
  checkpoint_max_age: withDefault('integer', {
    shortdesc: 'Age limit (seconds) for resuming from an unfinished migration\'s checkpoint',
    longdesc: 'When a migration fails after the container was checkpointed (for example the restore failed on '
      + 'the target), the next start restores the checkpoint instead of starting the container afresh, so '
      + 'nothing is lost. A checkpoint older than this is considered stale: it is set aside (its record keeps the '
      + 'reason, its images are removed) and the container starts afresh. 0 never resumes from a checkpoint. Counted '
      + 'from the end of the dump; at most 604800 (a week). It also bounds how long images stay on disk: whatever no '
      + 'start can resume any more is removed by the next start or stop, and every minute by ferry serve, but never '
      + 'within 15 minutes of its last change (a migration under way).',
    unit: 'seconds',
  }, '600', integer(0, 7 * 24 * 3600)),
  checkpoint_on_stop: withDefault('boolean', {
    shortdesc: 'Checkpoint the container on stop and resume it on the next start',
    longdesc: 'Like VirtualDomain\'s snapshot for VMs. When true and state_dir is set, stop of a running container '
      + 'first checkpoints it with CRIU into STATE_DIR/NAME/images (mode 0700, files 0600) as a migration record in '
      + 'phase "dumped" for no particular target (target "*"): the container is then gone from this node, and the next '
      + 'start, on whichever node, resumes it (the same processes, their memory and open files; an established TCP '
      + 'connection survives only if its peer has not given up meanwhile) and removes the images. This is what happens '
      + 'when Pacemaker stops rather than migrates: no allow-migrate, a recovery, a cluster shutdown. A checkpoint older '
      + 'than checkpoint_max_age, or one that cannot be restored (incomplete images, a runtime configuration that '
      + 'changed, a failed restore), is set aside with the reason logged and the container starts afresh. If the '
      + 'checkpoint fails, or cannot finish within the stop timeout (estimated from the container\'s resident memory, '
      + 'and CRIU is bounded by the deadline), the reason is logged and the container is stopped the normal way: a '
      + 'stop never fails because of it. With storage=none the checkpoint stays on this node: only a start here '
      + 'resumes it; a start on another node starts afresh and claims this copy through the helpers so that it is '
      + 'never resumed later. A stop of a live migration\'s source (the container already runs on the target) makes '
      + 'no checkpoint. Give stop a timeout that covers writing the container\'s memory to state_dir.',
  }, 'false', bool),
} as const;

export const MIGRATION: ParamPart<typeof MIGRATION_PARAMS> = {
  title: 'Live migration', appliesTo: undefined, params: MIGRATION_PARAMS,
  // VirtualDomain's name for the same bound (ms); the old name keeps working
  renamed: { downtime_target_ms: 'migration_downtime' },
};
