/**
 * The state of one DRBD resource as Ferry needs it (roles, connection, disks), parsed from what the tools print:
 * `drbdadm role|cstate|dstate` (DRBD 8.4, and drbd-utils 9 driving an 8.4 module), `/proc/drbd` (8.4) and
 * `drbdsetup status --json` (DRBD 9). Pure; the outputs these parsers are tested against are in
 * test/unit/fixtures/drbd, captured from real guests.
 */
export interface DrbdState {
  role: string;
  /** The peer's role as this node sees it ("Unknown" when disconnected). */
  peerRole: string;
  /** Connection state: Connected, StandAlone, WFConnection, SyncSource, SyncTarget, ... (8.4 names). */
  connection: string;
  disk: string;
  peerDisk: string;
}

const word = (s: string | undefined) => (s ?? '').trim().split(/\s+/)[0] ?? '';

/** "Primary/Secondary" → [local, peer]. */
function pair(text: string): [string, string] {
  const [local = '', peer = 'Unknown'] = word(text).split('/');
  return [local, peer];
}

export function fromDrbdadm(role: string, cstate: string, dstate: string): DrbdState {
  const [r, pr] = pair(role);
  const [d, pd] = pair(dstate);
  return { role: r, peerRole: pr, connection: word(cstate), disk: d, peerDisk: pd };
}

export const UNCONFIGURED: DrbdState = { role: 'Unconfigured', peerRole: 'Unknown', connection: 'Unconfigured', disk: 'Diskless', peerDisk: 'DUnknown' };

/**
 * From the three drbdadm runs as they ended. A resource that is down (or unknown) fails `role` and `cstate`,
 * while `dstate` may still answer from the on-disk metadata: only `role` decides whether it is there at all.
 */
export function fromDrbdadmRuns(role: { exitCode: number; stdout: string }, cstate: { stdout: string }, dstate: { stdout: string }): DrbdState {
  return role.exitCode === 0 ? fromDrbdadm(role.stdout, cstate.stdout, dstate.stdout) : UNCONFIGURED;
}

/** One minor's line of /proc/drbd (8.4): " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----". */
export function fromProcDrbd(text: string, minor: number): DrbdState | undefined {
  const line = text.split('\n').find((l) => new RegExp(`^\\s*${minor}:\\s`).test(l));
  if (!line) return undefined;
  const field = (name: string) => new RegExp(`\\b${name}:(\\S+)`).exec(line)?.[1];
  const cs = field('cs');
  if (!cs) return undefined;
  if (cs === 'Unconfigured') return UNCONFIGURED;
  const [r, pr] = pair(field('ro') ?? '');
  const [d, pd] = pair(field('ds') ?? '');
  return { role: r, peerRole: pr, connection: cs, disk: d, peerDisk: pd };
}

interface Drbd9Status {
  name?: string;
  role?: string;
  devices?: { 'disk-state'?: string }[];
  connections?: { 'connection-state'?: string; 'peer-role'?: string; peer_devices?: { 'peer-disk-state'?: string; 'replication-state'?: string }[] }[];
}

/** DRBD 9's `drbdsetup status --json`, for one resource with one peer, in 8.4 terms (Connected, SyncSource, ...). */
export function fromStatusJson(json: string, resource: string): DrbdState | undefined {
  let all: Drbd9Status[];
  try {
    all = JSON.parse(json) as Drbd9Status[];
  } catch {
    return undefined;
  }
  const r = Array.isArray(all) ? all.find((x) => x.name === resource) : undefined;
  if (!r) return undefined;
  const c = r.connections?.[0];
  const replication = c?.peer_devices?.[0]?.['replication-state'];
  const connected = c?.['connection-state'] ?? 'StandAlone';
  return {
    role: r.role ?? 'Unknown',
    peerRole: c?.['peer-role'] ?? 'Unknown',
    connection: connected === 'Connected' && replication && replication !== 'Established' ? replication : connected,
    disk: r.devices?.[0]?.['disk-state'] ?? 'DUnknown',
    peerDisk: c?.peer_devices?.[0]?.['peer-disk-state'] ?? 'DUnknown',
  };
}

/** A container may run on this node only as Primary with an UpToDate disk. */
export function runProblem(s: DrbdState): string | undefined {
  if (s.role !== 'Primary') return `this node is ${s.role}, not Primary`;
  if (s.disk !== 'UpToDate') return `this node's disk is ${s.disk}, not UpToDate`;
  return undefined;
}

/** Connection states of a link that went away (8.4 names and DRBD 9's Connecting), not an administrative StandAlone. */
const LOST_LINK = new Set(['WFConnection', 'Unconnected', 'NetworkFailure', 'BrokenPipe', 'Timeout', 'ProtocolError', 'TearDown', 'Disconnecting', 'Connecting']);

/** The peer's link went away (as opposed to a healthy connection, a resync, an admin's disconnect, a split-brain). */
export function linkLost(s: DrbdState): boolean {
  return LOST_LINK.has(s.connection);
}

/**
 * Why this node must not promote the resource to take the container over from a migration's source (undefined
 * when it may). migrate_from runs only after the source's migrate_to succeeded, and that demoted only once its
 * last write was on disk while this node was still connected and UpToDate (protocol C: then this node has every
 * write). So a link lost since then costs nothing: this node may promote alone. What is refused: a disk that is
 * not UpToDate (a resync unfinished), a resync in progress, a StandAlone resource (an admin's disconnect or a
 * split-brain), and a peer still Primary (single-primary: never two outside an explicit window).
 */
export function takeOverProblem(s: DrbdState): string | undefined {
  if (s.connection === 'Unconfigured') return 'the DRBD resource is not configured (or not up) on this node';
  if (s.connection === 'StandAlone') return 'the DRBD resource is StandAlone: disconnected, possibly a split-brain; resolve it before moving the container';
  if (s.disk !== 'UpToDate') return `this node's disk is ${s.disk}, not UpToDate${/^Sync/.test(s.connection) ? ` (${s.connection}: the resync is not finished)` : ''}`;
  if (s.connection !== 'Connected' && !linkLost(s)) return `the peer is not connected (${s.connection}): promoting now could lose what it wrote last`;
  if (s.peerRole === 'Primary') return 'the peer is still Primary: it has not handed the device over';
  return undefined;
}

/**
 * Why this node must not promote to start the container (undefined when it may). Its disk must hold every write
 * and the peer must not be Primary. Without a connection DRBD cannot tell whether the peer wrote after they
 * parted: promoting is safe only when the peer is known Outdated (DRBD resource fencing did that) or when this
 * node was the last Primary and let go while alone (`lastPrimaryAlone`): then nobody else can have written.
 */
export function startProblem(s: DrbdState, lastPrimaryAlone = false): string | undefined {
  if (s.connection === 'Unconfigured') return 'the DRBD resource is not configured (or not up) on this node';
  if (s.disk !== 'UpToDate') return `this node's disk is ${s.disk}, not UpToDate`;
  if (s.peerRole === 'Primary') return 'the peer is Primary: the container runs there';
  const connected = s.connection === 'Connected' || /^Sync/.test(s.connection);
  if (!connected && s.peerDisk !== 'Outdated' && !lastPrimaryAlone) {
    return `the peer is not connected (${s.connection}) and this node was not the last Primary: promoting could split the data `
      + '(configure DRBD resource fencing, so that a dead peer is marked Outdated, or promote by hand)';
  }
  return undefined;
}

/** Why the source must not hand over (undefined when it may): the peer must be connected and UpToDate. */
export function handOffProblem(s: DrbdState): string | undefined {
  if (s.role !== 'Primary') return `this node is ${s.role}, not Primary`;
  if (s.connection !== 'Connected') return `the peer is not connected (${s.connection}): it would not get the checkpoint`;
  if (s.peerDisk !== 'UpToDate') return `the peer's disk is ${s.peerDisk}, not UpToDate: it could not take over`;
  return undefined;
}

/**
 * From `drbdadm dump RESOURCE`: why this configuration breaks Ferry's single-primary hand-over, if it does. Ferry
 * never needs two Primaries (the checkpoint is complete before the device moves); with allow-two-primaries DRBD
 * would no longer refuse a second one, so a promote from anywhere else could split the data unnoticed.
 */
export function dualPrimaryProblem(dump: string): string | undefined {
  const allows = /^\s*allow-two-primaries\s+(yes|no)\s*;/m.exec(dump)?.[1] === 'yes';
  return allows ? 'its configuration has allow-two-primaries yes; Ferry hands over a single-primary device and never needs two Primaries, '
    + 'and with that setting DRBD would not refuse a second one: set allow-two-primaries no (net section)' : undefined;
}
