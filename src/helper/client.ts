/** Talking to a peer's helper: health queries and sending a directory of checkpoint images. */
import { connect, type TLSSocket } from 'node:tls';
import { readdirSync, statSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { PSK_CIPHERS, type Answer, type HealthAnswer } from './protocol.js';

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

export async function health(p: Peer): Promise<HealthAnswer> {
  const socket = await open(p);
  socket.write(`${JSON.stringify({ op: 'health' })}\n`);
  const a = await readAnswer(socket);
  if (!a.ok || !('protocol' in a)) throw new Error(`helper at ${p.host} refused: ${'error' in a ? a.error : 'unexpected answer'}`);
  return a;
}

/** Sends every regular file of `dir` (not recursive) as one transfer; resolves with the path on the peer. */
export async function sendDirectory(p: Peer, resource: string, transfer: string, dir: string): Promise<{ path: string; bytes: number }> {
  const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()).map((name) => ({ name, size: statSync(join(dir, name)).size }));
  const socket = await open({ ...p, timeoutMs: p.timeoutMs ?? 60_000 });
  const answered = readAnswer(socket);
  socket.write(`${JSON.stringify({ op: 'receive', resource, transfer, files })}\n`);
  for (const f of files) {
    await new Promise<void>((resolve, reject) => {
      const rs = createReadStream(join(dir, f.name));
      rs.on('error', reject);
      rs.on('end', () => resolve());
      rs.pipe(socket, { end: false });
    });
  }
  const a = await answered;
  if (!a.ok) throw new Error(`helper at ${p.host} refused the transfer: ${a.error}`);
  if (!('path' in a)) throw new Error('unexpected answer from the helper');
  return { path: a.path, bytes: a.received };
}
