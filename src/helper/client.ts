/** Talking to a peer's helper: health queries, CPU checks, image IDs, checkpoint claims and sending a directory of checkpoint images. */
import { connect, type TLSSocket } from 'node:tls';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PSK_CIPHERS, type Answer, type CpuinfoRequest, type HealthAnswer, type HeldCheckpoint, type Request, type Settled } from './protocol.js';
import { asCpuVerdict, type CpuVerdict } from '../criu/cpuinfo-image.js';
import { pacedStream } from '../util/pace.js';

/** A request as it goes on the wire: binary fields as base64. */
type WireRequest = Exclude<Request, CpuinfoRequest> | { op: 'cpuinfo'; image: string };

/** `bytesPerSecond`: what a transfer to this peer may send at most (migration_speed); undefined, no limit. */
export interface Peer { host: string; port: number; key: Buffer; identity: string; timeoutMs?: number; bytesPerSecond?: number }

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

/**
 * The helper's one-line answer. It may come before an error on the same socket (a refusal, then the helper ends the
 * connection while we still write), so the first complete line wins over whatever the socket reports after it.
 */
function readAnswer(socket: TLSSocket): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let text = '';
    const settle = (err?: Error) => {
      const line = text.split('\n')[0] ?? '';
      try {
        resolve(JSON.parse(line) as Answer);
      } catch {
        reject(err ?? new Error('the helper closed the connection without an answer'));
      }
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (text.includes('\n')) settle();
    });
    socket.once('error', settle);
    socket.once('close', () => settle());
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

/** The ID the image has on the peer, null when the peer does not have it; throws when the peer cannot tell. */
export async function peerImageId(p: Peer, image: string): Promise<string | null> {
  const a = await ask(p, { op: 'image', image });
  if (!a.ok) throw new Error(`helper at ${p.host} cannot tell the image's ID: ${a.error}`);
  if (!('imageId' in a) || a.image !== image || (a.imageId !== null && typeof a.imageId !== 'string')) throw new Error('unexpected answer from the helper');
  return a.imageId;
}

/** A refusal by the peer (as opposed to not reaching it): the peer's answer is authoritative. */
export class PeerRefusal extends Error {
  constructor(message: string, readonly settled?: Settled) { super(message); }
}

export async function checkpointRequest(p: Peer, op: 'claim' | 'release' | 'restored', resource: string, id: string, node: string): Promise<string> {
  const a = await ask(p, { op, resource, id, node });
  if (!a.ok) throw new PeerRefusal(a.error, a.settled === 'restored' || a.settled === 'aborted' ? a.settled : undefined);
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
  /** `connected`: false when no connection to the helper was made, so the peer received nothing of it. */
  constructor(message: string, readonly allSent: boolean, readonly connected = true) { super(message); }
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
 * One transfer on its own connection: `send` writes the request and the bytes; the helper's answer must name where
 * it put them. `signal` (the action's deadline) destroys the connection; any failure destroys it too.
 */
async function transferOnce(p: Peer, what: 'transfer' | 'files', signal: AbortSignal | undefined,
  send: (socket: TLSSocket, answered: Promise<Answer>) => Promise<void>, onConnected = () => {}): Promise<{ path: string; bytes: number }> {
  let socket: TLSSocket | undefined;
  const onAbort = () => socket?.destroy(new Error(`the action's deadline came before the ${what === 'files' ? 'files were sent' : 'transfer finished'}`));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    socket = await open({ ...p, timeoutMs: p.timeoutMs ?? 60_000 });
    onConnected();
    if (signal?.aborted) onAbort();
    const answered = readAnswer(socket);
    answered.catch(() => undefined);
    await send(socket, answered);
    const a = await answered;
    if (!a.ok) throw new Error(`helper at ${p.host} refused the ${what}: ${a.error}`);
    if (!('path' in a)) throw new Error('unexpected answer from the helper');
    return { path: a.path, bytes: a.received };
  } catch (err) {
    socket?.destroy();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
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
  let connected = false;
  try {
    return await transferOnce(p, 'transfer', signal, async (out, answered) => {
      out.write(`${JSON.stringify({ op: 'receive', resource, transfer, files, ...(part ? { part } : {}), ...(links.length ? { links } : {}) })}\n`);
      for (const f of files) {
        // the helper answered and closed: it had every byte it was told of (below)
        if (out.destroyed) break;
        await new Promise<void>((resolve, reject) => {
          const rs = createReadStream(join(dir, f.name));
          const failed = (err: Error) => { rs.destroy(); reject(err); };
          // The helper answers once it has read every file's declared size, then closes; that close can come
          // before the last file's stream has ended here (it ends only after the socket drained). A close after
          // an answer that names where the files are is the transfer's success, not its failure.
          const closed = () => {
            void answered.then((a) => a.ok, () => false).then((complete) => {
              if (complete) { rs.destroy(); resolve(); } else void whyClosed(answered, out, p.host).then(failed);
            });
          };
          rs.on('error', failed);
          out.once('close', closed);
          const paced = pacedStream(p.bytesPerSecond);
          paced.on('end', () => { out.off('close', closed); resolve(); });
          rs.pipe(paced).pipe(out, { end: false });
        });
      }
      allSent = true;
    }, () => { connected = true; });
  } catch (err) {
    throw new TransferError(err instanceof Error ? err.message : String(err), allSent, connected);
  }
}

/** A tar stream for sendFiles: its bytes, and when the tar that makes them has ended (it may fail late). */
export interface FilesSource { stream: NodeJS.ReadableStream; done: Promise<void> }

/**
 * Sends a container's files (see files-receiver.ts): `removed` paths first, then `tar` in frames. Resolves with the
 * bytes of tar the peer unpacked and where. `signal` bounds the whole transfer (the action's deadline).
 */
export async function sendFiles(p: Peer, resource: string, transfer: string, root: string, first: boolean, removed: readonly string[], tar: FilesSource, signal?: AbortSignal): Promise<{ path: string; bytes: number }> {
  const removals = Buffer.from(removed.length ? `${removed.join('\0')}\0` : '', 'utf8');
  return transferOnce(p, 'files', signal, async (out, answered) => {
    out.write(`${JSON.stringify({ op: 'files', resource, transfer, root, first, removeBytes: removals.length })}\n`);
    if (removals.length) out.write(removals);
    await new Promise<void>((resolve, reject) => {
      const closed = () => { void whyClosed(answered, out, p.host).then(reject); };
      out.once('close', closed);
      tar.stream.on('error', reject);
      const paced = tar.stream.pipe(pacedStream(p.bytesPerSecond));
      paced.on('data', (chunk: Buffer) => {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(chunk.length, 0);
        if (!out.write(Buffer.concat([header, chunk]))) {
          paced.pause();
          out.once('drain', () => paced.resume());
        }
      });
      paced.on('end', () => { out.off('close', closed); resolve(); });
    });
    await tar.done;
    out.write(Buffer.alloc(4));
  });
}
