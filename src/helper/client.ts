/** Talking to a peer's helper: health queries, CPU checks, checkpoint claims and sending a directory of checkpoint images. */
import { connect, type TLSSocket } from 'node:tls';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PSK_CIPHERS, type Answer, type CpuinfoRequest, type HealthAnswer, type HeldCheckpoint, type Request } from './protocol.js';
import { asCpuVerdict, type CpuVerdict } from '../criu/cpuinfo-image.js';

/** A request as it goes on the wire: binary fields as base64. */
type WireRequest = Exclude<Request, CpuinfoRequest> | { op: 'cpuinfo'; image: string };

export interface Peer { host: string; port: number; key: Buffer; identity: string; timeoutMs?: number }

function open(p: Peer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: p.host, port: p.port, ciphers: PSK_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2',
      pskCallback: () => ({ psk: p.key, identity: p.identity }),
      checkServerIdentity: () => undefined,
    }, () => resolve(socket));
    socket.setTimeout(p.timeoutMs ?? 10_000, () => socket.destroy(new Error(`no answer from ${p.host}:${p.port} within ${p.timeoutMs ?? 10_000} ms`)));
    socket.once('error', reject);
  });
}

function readAnswer(socket: TLSSocket): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => { text += d.toString('utf8'); });
    socket.once('error', reject);
    socket.once('close', () => {
      try {
        resolve(JSON.parse(text.split('\n')[0] ?? '') as Answer);
      } catch {
        reject(new Error('the helper closed the connection without an answer'));
      }
    });
  });
}

async function ask(p: Peer, request: WireRequest): Promise<Answer> {
  const socket = await open(p);
  socket.write(`${JSON.stringify(request)}\n`);
  return readAnswer(socket);
}

export async function health(p: Peer): Promise<HealthAnswer> {
  const a = await ask(p, { op: 'health' });
  if (!a.ok || !('protocol' in a)) throw new Error(`helper at ${p.host} refused: ${'error' in a ? a.error : 'unexpected answer'}`);
  return a;
}

/** Whether a checkpoint made on the CPU `image` (criu cpuinfo dump) describes can be restored on the peer's CPU. */
export async function cpuCompatibility(p: Peer, image: Buffer): Promise<CpuVerdict> {
  const a = await ask(p, { op: 'cpuinfo', image: image.toString('base64') });
  if (!a.ok) throw new Error(`helper at ${p.host} cannot check the CPU: ${a.error}`);
  if (!('cpu' in a)) throw new Error('unexpected answer from the helper');
  return asCpuVerdict(a.cpu);
}

/** A refusal by the peer (as opposed to not reaching it): the peer's answer is authoritative. */
export class PeerRefusal extends Error {}

export async function checkpointRequest(p: Peer, op: 'claim' | 'release' | 'restored', resource: string, id: string, node: string): Promise<string> {
  const a = await ask(p, { op, resource, id, node });
  if (!a.ok) throw new PeerRefusal(a.error);
  return 'done' in a ? a.done : op;
}

export async function heldBy(p: Peer, resource: string): Promise<HeldCheckpoint | null> {
  const a = await ask(p, { op: 'held', resource });
  if (!a.ok) throw new PeerRefusal(a.error);
  if (!('held' in a)) throw new Error('unexpected answer from the helper');
  return a.held;
}

/** A transfer that failed; `allSent` tells whether the peer may nevertheless have received every byte. */
export class TransferError extends Error {
  constructor(message: string, readonly allSent: boolean) { super(message); }
}

/**
 * Why the connection closed before every byte was sent: the helper's refusal (it answers, then closes), else the
 * error the socket was destroyed with (the deadline, the silence timeout), else just that it closed.
 */
async function whyClosed(answered: Promise<Answer>, socket: TLSSocket, host: string): Promise<Error> {
  const a = await answered.catch(() => undefined);
  if (a && !a.ok) return new Error(`helper at ${host} refused the transfer: ${a.error}`);
  return new Error(`the connection to ${host} closed during the transfer${socket.errored ? `: ${socket.errored.message}` : ''}`);
}

/**
 * Sends every regular file of `dir` (not recursive) and its symbolic links (CRIU's "parent") as one transfer, or as
 * a pre-copy round `part` of it; resolves with the path on the peer.
 * `timeoutMs` bounds silence on the connection (a cut link), `signal` the whole transfer (the action's deadline).
 */
export async function sendDirectory(p: Peer, resource: string, transfer: string, dir: string, signal?: AbortSignal, part?: string): Promise<{ path: string; bytes: number }> {
  const entries = readdirSync(dir).map((name) => ({ name, st: lstatSync(join(dir, name)) }));
  const files = entries.filter((e) => e.st.isFile()).map((e) => ({ name: e.name, size: e.st.size }));
  const links = entries.filter((e) => e.st.isSymbolicLink()).map((e) => ({ name: e.name, target: readlinkSync(join(dir, e.name)) }));
  let allSent = false;
  let socket: TLSSocket | undefined;
  const onAbort = () => socket?.destroy(new Error('the action\'s deadline came before the transfer finished'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    socket = await open({ ...p, timeoutMs: p.timeoutMs ?? 60_000 });
    if (signal?.aborted) onAbort();
    const answered = readAnswer(socket);
    answered.catch(() => undefined);
    socket.write(`${JSON.stringify({ op: 'receive', resource, transfer, files, ...(part ? { part } : {}), ...(links.length ? { links } : {}) })}\n`);
    for (const f of files) {
      const out = socket;
      await new Promise<void>((resolve, reject) => {
        const rs = createReadStream(join(dir, f.name));
        const failed = (err: Error) => { rs.destroy(); reject(err); };
        const closed = () => { void whyClosed(answered, out, p.host).then(failed); };
        rs.on('error', failed);
        out.once('close', closed);
        rs.on('end', () => { out.off('close', closed); resolve(); });
        rs.pipe(out, { end: false });
      });
    }
    allSent = true;
    const a = await answered;
    if (!a.ok) throw new Error(`helper at ${p.host} refused the transfer: ${a.error}`);
    if (!('path' in a)) throw new Error('unexpected answer from the helper');
    return { path: a.path, bytes: a.received };
  } catch (err) {
    socket?.destroy();
    throw new TransferError(err instanceof Error ? err.message : String(err), allSent);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
