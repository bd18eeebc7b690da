/**
 * `ferry serve`: the per-node helper. TLS-PSK with the shared authkey (no key, wrong key or a replayed handshake
 * never gets past TLS), listening only on the addresses it is given. It answers health queries (used to choose
 * the migration network and by pre-migration checks), receives checkpoint images into a per-resource
 * directory (one transfer per resource at a time, within a size limit), answers the cross-node claims of
 * storage=none (through the engine's CheckpointKeeper), checks a source's CPU description against this node's CPU
 * and tells a container image's ID here (through the engine's ImageLookup).
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { logger } from '../util/log.js';
import { FERRY_VERSION } from '../util/version.js';
import { MAX_HEADER_BYTES, parseRequest, PROTOCOL_VERSION, PSK_CIPHERS, RequestError, type Answer, type FilesRequest, type PeerFeatures, type ReceiveRequest } from './protocol.js';
import type { CpuVerdict } from '../criu/cpuinfo-image.js';
import { dropPartialTransfers, Receiver } from './receiver.js';
import { FilesReceiver } from './files-receiver.js';
import type { CheckpointKeeper, ImageLookup } from './keeper.js';

export interface ServeOptions {
  addresses: string[];
  port: number;
  key: Buffer;
  dir: string;
  maxBytes: number;
  node: string;
  criuVersion: string | undefined;
  idleTimeoutMs?: number;
  /** This node's features for peers' pre-migration checks; undefined until known. */
  features?: () => PeerFeatures | undefined;
  /** Checks a peer's CPU description against this node's CPU (criu cpuinfo check); without it the op is refused. */
  checkCpu?: (image: Buffer) => Promise<CpuVerdict>;
  /** Answers peers' claims on the checkpoints kept in dir, and sweeps them; without it those ops are refused. */
  checkpoints?: CheckpointKeeper;
  /** How often expired checkpoint images in dir are removed (default a minute). */
  sweepIntervalMs?: number;
  /** Tells an image's ID on this node; without it the op is refused. */
  images?: ImageLookup;
}

const NO_KEEPER: Answer = { ok: false, error: 'this helper keeps no checkpoints' };

/** CPU checks at once (an evacuation's sources ask together); more are refused rather than queued. */
const MAX_CPU_CHECKS = 4;

/** A connection this quiet is dead (a cut link, a killed peer); a partial transfer on it is dropped. */
const IDLE_TIMEOUT_MS = 10_000;

export interface Helper { close(): Promise<void>; ports: number[] }

function answer(socket: TLSSocket, a: Answer): void {
  socket.end(`${JSON.stringify(a)}\n`);
}

/** The node name each client gave as its PSK identity, for the logs (the key, not the name, authenticates). */
const identities = new WeakMap<object, string>();

interface Load { transfers: Set<string>; cpuChecks: number }

function cpuOp(socket: TLSSocket, o: ServeOptions, load: Load, image: Buffer, peer: string): void {
  if (!o.checkCpu) { answer(socket, { ok: false, error: 'this helper cannot check CPUs (started without CRIU)' }); return; }
  if (load.cpuChecks >= MAX_CPU_CHECKS) { answer(socket, { ok: false, error: `${MAX_CPU_CHECKS} CPU checks are already running` }); return; }
  load.cpuChecks += 1;
  o.checkCpu(image)
    .then((cpu) => {
      logger.info(`helper: CPU check for ${peer}: ${cpu.result}${'reason' in cpu ? ` (${cpu.reason})` : ''}`);
      return { ok: true, cpu } as const;
    }, (err: unknown) => ({ ok: false, error: `criu cpuinfo check could not run: ${err instanceof Error ? err.message : String(err)}` } as const))
    .then((a) => { load.cpuChecks -= 1; if (!socket.destroyed) answer(socket, a); });
}

function imageOp(socket: TLSSocket, o: ServeOptions, image: string, peer: string): void {
  if (!o.images) { answer(socket, { ok: false, error: 'this helper cannot look up container images' }); return; }
  o.images.imageId(image)
    .then((id) => {
      logger.info(`helper: image ${image} for ${peer}: ${id ?? 'not here'}`);
      return { ok: true, image, imageId: id ?? null } as const;
    }, (err: unknown) => ({ ok: false, error: `cannot tell the ID of image ${image} here: ${err instanceof Error ? err.message : String(err)}` } as const))
    .then((a) => { if (!socket.destroyed) answer(socket, a); });
}

function handle(socket: TLSSocket, o: ServeOptions, load: Load): void {
  const busy = load.transfers;
  let header = Buffer.alloc(0);
  let receiver: Receiver | FilesReceiver | undefined;
  let request: ReceiveRequest | FilesRequest | undefined;
  /** A request being answered asynchronously: what the client sends meanwhile is dropped, as after an answer. */
  let answering = false;
  const peer = `${socket.remoteAddress ?? '?'} (${identities.get(socket) ?? 'unnamed'})`;
  const release = () => { if (request) busy.delete(request.resource); request = undefined; };
  const fail = (error: string) => {
    receiver?.abort();
    receiver = undefined;
    release();
    logger.warning(`helper: refused request from ${peer}: ${error}`);
    answer(socket, { ok: false, error });
  };
  socket.setTimeout(o.idleTimeoutMs ?? IDLE_TIMEOUT_MS, () => { receiver?.abort(); release(); socket.destroy(); });
  socket.on('close', () => { if (receiver) { receiver.abort(); receiver = undefined; } release(); });
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    if (socket.writableEnded || answering) return; // answered already: what the client still sends is dropped
    try {
      if (receiver) {
        receiver.write(chunk);
      } else {
        header = Buffer.concat([header, chunk]);
        const nl = header.indexOf(0x0a);
        if (nl < 0) {
          if (header.length > MAX_HEADER_BYTES) fail('request header too long');
          return;
        }
        const req = parseRequest(header.subarray(0, nl).toString('utf8'), o.maxBytes);
        const rest = header.subarray(nl + 1);
        if (req.op === 'health') {
          answer(socket, { ok: true, protocol: PROTOCOL_VERSION, version: FERRY_VERSION, node: o.node, time: Date.now(), criuVersion: o.criuVersion, dir: o.dir, ...withFeatures(o) });
          return;
        }
        const keeper = o.checkpoints;
        if (req.op === 'held') { answer(socket, keeper ? keeper.held(o.dir, req) : NO_KEEPER); return; }
        if (req.op === 'cpuinfo') { answering = true; cpuOp(socket, o, load, req.image, peer); return; }
        if (req.op === 'image') { answering = true; imageOp(socket, o, req.image, peer); return; }
        if (req.op !== 'receive' && req.op !== 'files') {
          const a = keeper ? keeper.checkpoint(o.dir, req, o.node) : NO_KEEPER;
          logger.info(`helper: ${req.op} ${req.resource}/${req.id} for ${req.node} from ${peer}: ${a.ok ? 'done' : `refused: ${'error' in a ? a.error : ''}`}`);
          answer(socket, a);
          return;
        }
        if (busy.has(req.resource)) { fail(`a transfer for ${req.resource} is already running`); return; }
        busy.add(req.resource);
        request = req;
        receiver = req.op === 'files' ? new FilesReceiver(req, o.maxBytes, { pause: () => socket.pause(), resume: () => socket.resume(), failed: (why) => { socket.resume(); fail(why); } }) : new Receiver(o.dir, req);
        if (receiver instanceof FilesReceiver && receiver.cleared.length) logger.info(`helper: removed ${receiver.cleared.join(', ')}, left by earlier moves of ${req.resource}`);
        if (rest.length) receiver.write(rest);
      }
      if (receiver instanceof FilesReceiver && receiver.complete) {
        const files = receiver;
        receiver = undefined;
        answering = true;
        files.finish().then(() => {
          logger.info(`helper: received ${files.received} bytes of files into ${files.dir} from ${peer} (${files.removedPaths} paths removed)`);
          release();
          answer(socket, { ok: true, received: files.received, path: files.dir });
        }, (err: unknown) => {
          release();
          answer(socket, { ok: false, error: err instanceof Error ? err.message : String(err) });
        });
        return;
      }
      if (receiver instanceof Receiver && receiver.complete) {
        const path = receiver.finish();
        const received = receiver.received;
        receiver = undefined;
        release();
        logger.info(`helper: received ${received} bytes for ${path} from ${peer}`);
        answer(socket, { ok: true, received, path });
      }
    } catch (err) {
      fail(err instanceof RequestError || err instanceof Error ? err.message : String(err));
    }
  });
}

function withFeatures(o: ServeOptions): { node_features?: PeerFeatures } {
  const features = o.features?.();
  return features ? { node_features: features } : {};
}

/** How often the helper removes checkpoint images that can no longer serve (a copy its node never resumes). */
const SWEEP_INTERVAL_MS = 60_000;

function sweepPeriodically(o: ServeOptions): () => void {
  const keeper = o.checkpoints;
  if (!keeper) return () => undefined;
  const sweep = () => {
    try {
      for (const removed of keeper.sweep(o.dir)) logger.info(`helper: removed ${removed}`);
    } catch (err) {
      logger.warning(`helper: could not look for checkpoint images to remove in ${o.dir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  sweep();
  const timer = setInterval(sweep, o.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export async function serve(o: ServeOptions): Promise<Helper> {
  if (o.addresses.length === 0) throw new Error('no address to listen on: give --listen (never all addresses by default)');
  const load: Load = { transfers: new Set<string>(), cpuChecks: 0 };
  const servers: Server[] = [];
  for (const partial of dropPartialTransfers(o.dir)) logger.warning(`helper: removed ${partial}, left by an interrupted transfer`);
  for (const address of o.addresses) {
    const server = createServer({
      pskCallback: (socket, identity) => { identities.set(socket, identity.slice(0, 64)); return o.key; },
      pskIdentityHint: 'ferry',
      ciphers: PSK_CIPHERS,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
    }, (socket) => handle(socket, o, load));
    server.on('tlsClientError', (err, socket) => {
      logger.warning(`helper: TLS handshake from ${socket.remoteAddress ?? '?'} refused: ${err.message}`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, address, () => resolve());
    });
    servers.push(server);
    logger.info(`helper: listening on ${address}:${(server.address() as { port: number }).port}`);
  }
  const stopSweeping = sweepPeriodically(o);
  return {
    ports: servers.map((s) => (s.address() as { port: number }).port),
    close: () => {
      stopSweeping();
      return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
    },
  };
}
