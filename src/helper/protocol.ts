/**
 * The helper protocol, inside TLS-PSK: the client sends one JSON line (the request); for "receive" it then sends
 * the files' bytes back to back, in the order and sizes the request announced; the server answers one JSON line.
 * "claim", "release", "restored" and "held" act on the checkpoints this node holds for storage=none (see
 * migrate/peer-claims.ts). "cpuinfo" carries the source's CPU description (criu cpuinfo dump) for the target
 * to check against its own CPU before anything is frozen (migrate/cpu-check.ts). "image" asks for the ID a
 * container image has on this node (driver=podman restores a checkpoint only onto the same image, migrate/image-check.ts). Requests are checked here,
 * purely, before a byte touches the disk.
 */
import { IMAGE_REFERENCE } from '../settings/parts/podman.js';
import { rootProblem } from '../storage/file-tree/places.js';
import { cpuinfoImageProblem, MAX_CPUINFO_IMAGE_BYTES, type CpuVerdict } from '../criu/cpuinfo-image.js';

export const PROTOCOL_VERSION = 1;
export const PSK_CIPHERS = 'PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256';
export const MAX_HEADER_BYTES = 64 * 1024;

export interface HealthRequest { op: 'health' }
export interface ReceiveRequest {
  op: 'receive'; resource: string; transfer: string; files: { name: string; size: number }[];
  /** A pre-copy round (pre-N) sent ahead of the final images; kept aside until the final transfer gathers it. */
  part?: string;
  /** Symbolic links to recreate: CRIU's "parent" link from a round or the final images to the round before. */
  links?: { name: string; target: string }[];
}
export type CheckpointOp = 'claim' | 'release' | 'restored';
export interface CheckpointRequest { op: CheckpointOp; resource: string; id: string; node: string }
export interface HeldRequest { op: 'held'; resource: string }
/** `image`: the source's cpuinfo.img, base64 (checked: size and CRIU's magic, before CRIU parses it). */
export interface CpuinfoRequest { op: 'cpuinfo'; image: Buffer }
/** `image`: a container image reference or ID, as the image parameter takes it. */
export interface ImageRequest { op: 'image'; image: string }
/**
 * A container's files (storage=none): `root` is the tree's path, the same on both nodes; `first` starts a new
 * copy (what earlier moves left is cleared); `removeBytes` of NUL-separated paths to remove come first, then tar.
 */
export interface FilesRequest { op: 'files'; resource: string; transfer: string; root: string; first: boolean; removeBytes: number }
export type Request = HealthRequest | ReceiveRequest | CheckpointRequest | HeldRequest | CpuinfoRequest | ImageRequest | FilesRequest;

export interface HealthAnswer {
  ok: true; protocol: number; version: string; node: string; time: number; criuVersion: string | undefined;
  /** Where this helper keeps checkpoints (must be the resources' state_dir for storage=none). */
  dir: string;
  /** What this node can do, once the helper has found out (criu check runs once per boot, in the background). */
  node_features?: PeerFeatures;
}

/** A node's side of the pre-migration checks, as its helper reports them. */
export interface PeerFeatures {
  criuCheckOk: boolean;
  memDirtyTrack: boolean;
  uffdNoncoop: boolean;
  lazyTransportProblem?: string | undefined;
  memAvailableBytes: number;
  dirFreeBytes: number;
}
/** A checkpoint of an unfinished migration that the answering node could resume. */
export interface HeldCheckpoint { id: string; source: string; target: string; dumpedAt: number }
export type Answer = HealthAnswer
  | { ok: true; received: number; path: string }
  | { ok: true; done: string }
  | { ok: true; held: HeldCheckpoint | null }
  | { ok: true; cpu: CpuVerdict }
  /** The image's ID on the answering node; null when that node does not have it. */
  | { ok: true; image: string; imageId: string | null }
  /**
   * `settled`, on a refused claim: the checkpoint's fate there is decided for good, restored there (or superseded
   * by a newer migration) or set aside (never to be restored there). Absent from older helpers.
   */
  | { ok: false; error: string; settled?: Settled };

export type Settled = 'restored' | 'aborted';

const RESOURCE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TRANSFER = /^[A-Za-z0-9-]{1,64}$/;
const NODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;
const CHECKPOINT_OPS: readonly string[] = ['claim', 'release', 'restored'];
const PART = /^pre-\d{1,3}$/;
/** The only links a checkpoint has: a round's or the final images' parent, the round before, never outside. */
const LINK_TARGET = /^(\.\.\/)?pre-\d{1,3}$/;

export class RequestError extends Error {}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function cpuinfoImage(raw: unknown): Buffer {
  if (typeof raw !== 'string' || raw.length > Math.ceil(MAX_CPUINFO_IMAGE_BYTES / 3) * 4 || raw.length % 4 !== 0 || !BASE64.test(raw)) {
    throw new RequestError(`invalid cpuinfo image (base64 of at most ${MAX_CPUINFO_IMAGE_BYTES} bytes expected)`);
  }
  const image = Buffer.from(raw, 'base64');
  const problem = cpuinfoImageProblem(image);
  if (problem) throw new RequestError(problem);
  return image;
}

const MAX_REMOVE_BYTES = 16 * 1024 * 1024;

function filesRequest(r: Record<string, unknown>, resource: string): FilesRequest {
  if (typeof r.transfer !== 'string' || !TRANSFER.test(r.transfer)) throw new RequestError('invalid transfer id');
  const problem = typeof r.root === 'string' ? rootProblem(r.root) : 'no root';
  if (problem) throw new RequestError(`invalid root: ${problem}`);
  if (typeof r.first !== 'boolean') throw new RequestError('invalid first');
  if (typeof r.removeBytes !== 'number' || !Number.isSafeInteger(r.removeBytes) || r.removeBytes < 0 || r.removeBytes > MAX_REMOVE_BYTES) {
    throw new RequestError('invalid removeBytes');
  }
  return { op: 'files', resource, transfer: r.transfer, root: r.root as string, first: r.first, removeBytes: r.removeBytes };
}

/** Parses and checks a request line; `maxBytes` bounds a transfer's total size. */
export function parseRequest(line: string, maxBytes: number): Request {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new RequestError('request is not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw new RequestError('request is not an object');
  const r = raw as Record<string, unknown>;
  if (r.op === 'health') return { op: 'health' };
  if (r.op === 'cpuinfo') return { op: 'cpuinfo', image: cpuinfoImage(r.image) };
  if (r.op === 'image') {
    if (typeof r.image !== 'string' || !IMAGE_REFERENCE.test(r.image) || r.image.split('/').includes('..')) throw new RequestError('invalid image name');
    return { op: 'image', image: r.image };
  }
  if (typeof r.resource !== 'string' || !RESOURCE.test(r.resource)) throw new RequestError('invalid resource name');
  if (r.op === 'held') return { op: 'held', resource: r.resource };
  if (r.op === 'files') return filesRequest(r, r.resource);
  if (typeof r.op === 'string' && CHECKPOINT_OPS.includes(r.op)) {
    if (typeof r.id !== 'string' || !TRANSFER.test(r.id)) throw new RequestError('invalid checkpoint id');
    if (typeof r.node !== 'string' || !NODE.test(r.node)) throw new RequestError('invalid node name');
    return { op: r.op as CheckpointOp, resource: r.resource, id: r.id, node: r.node };
  }
  if (r.op !== 'receive') throw new RequestError(`unknown op ${JSON.stringify(r.op)}`);
  if (typeof r.transfer !== 'string' || !TRANSFER.test(r.transfer)) throw new RequestError('invalid transfer id');
  if (!Array.isArray(r.files) || r.files.length === 0 || r.files.length > 100_000) throw new RequestError('invalid file list');
  const files: { name: string; size: number }[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const f of r.files as unknown[]) {
    const { name, size } = (f ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || !FILE.test(name) || name.includes('..')) throw new RequestError(`invalid file name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new RequestError(`file ${name} named twice`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new RequestError(`invalid size for ${name}`);
    total += size;
    if (total > maxBytes) throw new RequestError(`transfer of more than ${maxBytes} bytes refused`);
    seen.add(name);
    files.push({ name, size });
  }
  const part = r.part === undefined ? undefined : String(r.part);
  if (part !== undefined && !PART.test(part)) throw new RequestError('invalid part name');
  const links: { name: string; target: string }[] = [];
  if (r.links !== undefined) {
    if (!Array.isArray(r.links) || r.links.length > 1) throw new RequestError('invalid link list');
    for (const l of r.links as unknown[]) {
      const { name, target } = (l ?? {}) as Record<string, unknown>;
      if (name !== 'parent' || seen.has(name)) throw new RequestError('the only link allowed is "parent"');
      if (typeof target !== 'string' || !LINK_TARGET.test(target)) throw new RequestError(`invalid link target ${JSON.stringify(target)}`);
      links.push({ name, target });
    }
  }
  return { op: 'receive', resource: r.resource, transfer: r.transfer, files, ...(part ? { part } : {}), ...(links.length ? { links } : {}) };
}
