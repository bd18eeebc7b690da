/**
 * The helper protocol, inside TLS-PSK: the client sends one JSON line (the request); for "receive" it then sends
 * the files' bytes back to back, in the order and sizes the request announced; the server answers one JSON line.
 * Requests are checked here, purely, before a byte touches the disk.
 */
export const PROTOCOL_VERSION = 1;
export const PSK_CIPHERS = 'PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256';
export const MAX_HEADER_BYTES = 64 * 1024;

export interface HealthRequest { op: 'health' }
export interface ReceiveRequest { op: 'receive'; resource: string; transfer: string; files: { name: string; size: number }[] }
export type Request = HealthRequest | ReceiveRequest;

export interface HealthAnswer { ok: true; protocol: number; version: string; node: string; time: number; criuVersion: string | undefined }
export type Answer = HealthAnswer | { ok: true; received: number; path: string } | { ok: false; error: string };

const RESOURCE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TRANSFER = /^[A-Za-z0-9-]{1,64}$/;

export class RequestError extends Error {}

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
  if (r.op !== 'receive') throw new RequestError(`unknown op ${JSON.stringify(r.op)}`);
  if (typeof r.resource !== 'string' || !RESOURCE.test(r.resource)) throw new RequestError('invalid resource name');
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
  return { op: 'receive', resource: r.resource, transfer: r.transfer, files };
}
