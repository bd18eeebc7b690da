/**
 * storage=none's cross-node claims between real helpers on loopback (TLS-PSK, no root): a node claims a checkpoint
 * on every other node that may hold a copy before restoring it, a peer's refusal is final, a peer it cannot reach
 * cannot be ruled out, and claims are released or the copies retired afterwards. Also how a transfer ends:
 * whole under RESOURCE/images/TRANSFER, or a TransferError telling whether the peer may have every byte.
 *
 * The peers are named by their loopback addresses (127.0.0.2, 127.0.0.3) and migration_address is "%n", so that
 * two helpers can share helper_port without any name resolution; 127.0.0.4 has no helper.
 */
import t, { type Test } from 'tap';
import { createServer as tlsServer, type TLSSocket } from 'node:tls';
import { createServer as netServer } from 'node:net';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { serve, type Helper } from '../../src/helper/server.js';
import { checkpointKeeper } from '../../src/migrate/checkpoint-keeper.js';
import { health, sendDirectory, TransferError, type Peer } from '../../src/helper/client.js';
import { dropPartialTransfers } from '../../src/helper/receiver.js';
import { PSK_CIPHERS } from '../../src/helper/protocol.js';
import { askPeer, checkpointHeldElsewhere, claimOtherCopies, PeerUnreachable, releaseOtherCopies, RestoredElsewhere, retireOtherCopies } from '../../src/migrate/peer-claims.js';
import { RecordStore, type MigrationRecord } from '../../src/migrate/record.js';
import { parseConfig } from '../../src/ocf/config.js';
import type { Config } from '../../src/settings/params.js';
import { StateStore } from '../../src/storage/state-store.js';
import { writeJsonAtomic } from '../../src/util/files.js';
import { Deadline, setCurrentDeadline } from '../../src/util/deadline.js';

const RESOURCE = 'web1';
const B = '127.0.0.2';
const C = '127.0.0.3';
const DEAD = '127.0.0.4';
const LOCAL = 'nodeA';
const MAX_BYTES = 1024 * 1024;

const KEY = randomBytes(32);
const root = mkdtempSync(join(tmpdir(), 'ferry-claims-'));
const keyPath = join(root, 'authkey');
const dirs: Record<string, string> = { [B]: join(root, 'b'), [C]: join(root, 'c') };
function dirOf(peer: string): string {
  const d = dirs[peer];
  if (d === undefined) throw new Error(`no helper for ${peer}`);
  return d;
}
const helpers: Helper[] = [];
let port = 0;

t.before(async () => {
  writeFileSync(keyPath, KEY, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  for (const d of Object.values(dirs)) mkdirSync(d, { mode: 0o700 });
  // generous silence timeouts (helpers and clients): no test here waits for one to fire, and a loaded machine may pause
  const b = await serve({ addresses: [B], port: 0, key: KEY, dir: dirOf(B), maxBytes: MAX_BYTES, node: 'nodeB', criuVersion: undefined, idleTimeoutMs: 10_000, checkpoints: checkpointKeeper });
  port = b.ports[0] ?? 0;
  const c = await serve({ addresses: [C], port, key: KEY, dir: dirOf(C), maxBytes: MAX_BYTES, node: 'nodeC', criuVersion: undefined, idleTimeoutMs: 10_000, checkpoints: checkpointKeeper });
  helpers.push(b, c);
});
// each test starts from empty state directories on the peers
t.beforeEach(() => {
  for (const d of Object.values(dirs)) for (const e of readdirSync(d)) rmSync(join(d, e), { recursive: true, force: true });
});
t.teardown(async () => {
  for (const h of helpers) await h.close();
  rmSync(root, { recursive: true, force: true });
});

/** The agent's configuration as Pacemaker would give it, pointing at the test helpers. */
function config(params: Record<string, string> = {}): Config {
  const env: NodeJS.ProcessEnv = { OCF_RESOURCE_INSTANCE: RESOURCE };
  const all = { name: RESOURCE, command: 'sleep 1000', storage: 'none', state_dir: join(root, 'a'), authkey: keyPath,
    helper_port: String(port), migration_address: '%n', ...params };
  for (const [k, v] of Object.entries(all)) env[`OCF_RESKEY_${k}`] = v;
  const { config: c, errors } = parseConfig(env);
  if (!c) throw new Error(errors.map((e) => e.message).join('; '));
  return c;
}
const who = (params: Record<string, string> = {}) => ({ config: config(params), localNode: LOCAL });

let serial = 0;
/** A checkpoint with an id of its own (the peers' directories are also emptied before each test). */
function newRecord(copies: string[]): MigrationRecord {
  serial += 1;
  const at = Date.now();
  const id = `${new Date(at).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${serial.toString(16).padStart(8, '0')}`;
  return { id, name: RESOURCE, source: LOCAL, target: B, requestedType: 'simple', type: 'simple', phase: 'dumped',
    dumpStartedAt: at, dumpedAt: at + 100, updatedAt: new Date(at).toISOString(), copies };
}

function recordsOf(peer: string): RecordStore {
  return new RecordStore(new StateStore(dirOf(peer), RESOURCE));
}

/** The peer holds a received copy of the checkpoint (images and travelling record), as after a transfer. */
function receivedOn(peer: string, r: MigrationRecord): void {
  const s = new StateStore(dirOf(peer), RESOURCE);
  s.ensure();
  mkdirSync(s.imagesDir(r.id), { recursive: true });
  writeFileSync(join(s.imagesDir(r.id), 'inventory.img'), 'inv');
  writeJsonAtomic(s.travellingRecordPath(r.id), r);
}

/** A port on which nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** The error `p` rejects with (failing the test when it resolves). */
async function failure(t: Test, p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  t.fail('resolved where a failure was expected');
  return new Error('resolved');
}

t.test('askPeer: a fixed migration_address reaches the helper without resolving the node name', async (t) => {
  const h = await askPeer(who({ migration_address: B }), 'nodeB.invalid', (p) => health(p));
  t.equal(h.node, 'nodeB');
  t.equal(h.dir, dirOf(B));
  const err = await failure(t, askPeer(who({ helper_port: String(await closedPort()) }), B, (p) => health(p)));
  t.ok(err instanceof PeerUnreachable, 'a closed port: unreachable');
  t.match(err.message, new RegExp(`^the helper of ${B} cannot be reached: ${B} \\(${B}\\): .*ECONNREFUSED`));
});

t.test('claimOtherCopies: claims on the peer listed in copies, never on this node', async (t) => {
  const r = newRecord([LOCAL, B]);
  receivedOn(B, r);
  await claimOtherCopies(who(), r);
  t.equal(recordsOf(B).claimOwner(r.id), LOCAL, 'the peer\'s copy is claimed for this node');
  t.notOk(existsSync(new StateStore(join(root, 'a'), RESOURCE).claimPath(r.id)), 'nothing claimed locally (the caller does that)');
  await claimOtherCopies(who(), r);
  t.equal(recordsOf(B).claimOwner(r.id), LOCAL, 'claiming again (a retried start) succeeds');
  // no other copy (shared storage, or a transfer that cannot have completed): nobody is asked, not even an absent helper
  const nobody = who({ helper_port: String(await closedPort()) });
  await t.resolves(claimOtherCopies(nobody, { ...r, copies: undefined }), 'no copies listed');
  await t.resolves(claimOtherCopies(nobody, { ...r, copies: [LOCAL] }), 'only this node listed');
});

t.test('claimOtherCopies: a peer holding nothing of the checkpoint keeps a claim for a copy still on its way', async (t) => {
  const r = newRecord([LOCAL, B]);
  await claimOtherCopies(who(), r);
  t.equal(recordsOf(B).claimOwner(r.id), LOCAL);
  // the transfer lands after all: the peer never offers it
  const sent = mkdtempSync(join(root, 'src-'));
  writeFileSync(join(sent, 'inventory.img'), 'inv');
  writeJsonAtomic(join(sent, 'ferry-record.json'), r);
  await sendDirectory({ host: B, port, key: KEY, identity: LOCAL, timeoutMs: 10_000 }, RESOURCE, r.id, sent);
  t.ok(recordsOf(B).imagesComplete(r.id), 'the late copy arrived');
  const held = await checkpointHeldElsewhere(who(), [B]);
  t.same(held, { unreachable: [] }, 'but it is not held for resuming');
});

t.test('claimOtherCopies: a refusal is final and says the peer refuses', async (t) => {
  const r = newRecord([LOCAL, B]);
  receivedOn(B, r);
  t.ok(recordsOf(B).claim(r.id, 'nodeZ'), 'nodeZ got there first');
  const err = await failure(t, claimOtherCopies(who(), r));
  t.equal(err.message, `${B} refuses to give up checkpoint ${r.id}: checkpoint ${r.id} is claimed by nodeZ`);
  t.equal(recordsOf(B).claimOwner(r.id), 'nodeZ', 'the other node keeps its claim');

  const restored = newRecord([LOCAL, B]);
  recordsOf(B).store.ensure();
  recordsOf(B).write({ ...restored, phase: 'restored', restoredOn: 'nodeB' });
  const err2 = await failure(t, claimOtherCopies(who(), restored));
  t.equal(err2.message, `${B} refuses to give up checkpoint ${restored.id}: checkpoint ${restored.id} is restored here (on nodeB)`);
});

t.test('claimOtherCopies: when one peer refuses, the claims already got are released', async (t) => {
  const r = newRecord([LOCAL, B, C]);
  receivedOn(B, r);
  receivedOn(C, r);
  t.ok(recordsOf(C).claim(r.id, 'nodeZ'));
  const err = await failure(t, claimOtherCopies(who(), r));
  t.match(err.message, new RegExp(`^${C} refuses to give up checkpoint ${r.id}: .*claimed by nodeZ`));
  t.equal(recordsOf(B).claimOwner(r.id), undefined, 'B\'s claim, got first, is released again');
  t.equal(recordsOf(C).claimOwner(r.id), 'nodeZ');
});

t.test('claimOtherCopies: a copy set aside on a peer counts as claimed; one restored there is RestoredElsewhere; a peer gone after claiming ours may stay unreachable', async (t) => {
  const r = newRecord([LOCAL, B, C]);
  receivedOn(B, r);
  receivedOn(C, r);
  recordsOf(C).update({ ...r, phase: 'dumped' }, { phase: 'aborted' });
  await t.resolves(claimOtherCopies(who(), r), 'C set its copy aside: never restored there, as good as a claim');
  t.equal(recordsOf(B).claimOwner(r.id), LOCAL, 'B\'s copy claimed');

  const moved = newRecord([LOCAL, B]);
  receivedOn(B, moved);
  recordsOf(B).update({ ...moved, phase: 'dumped' }, { phase: 'restored', restoredOn: 'nodeB' });
  const err = await failure(t, claimOtherCopies(who(), moved));
  t.ok(err instanceof RestoredElsewhere, 'restored on B: the container moved on (the start sets its copy aside)');

  const gone = newRecord([LOCAL, B, DEAD]);
  receivedOn(B, gone);
  await t.resolves(claimOtherCopies(who(), gone, [DEAD]), 'DEAD claimed our copy and is gone: it cannot restore its own without ours');
  t.equal(recordsOf(B).claimOwner(gone.id), LOCAL, 'the reachable peer is still claimed');
  await t.rejects(claimOtherCopies(who(), newRecord([LOCAL, DEAD]), [B]), /cannot make sure 127\.0\.0\.4/, 'any other unreachable peer still cannot be ruled out');
});

t.test('claimOtherCopies: a peer that cannot be reached cannot be ruled out', async (t) => {
  const r = newRecord([LOCAL, B, DEAD]);
  receivedOn(B, r);
  const err = await failure(t, claimOtherCopies(who(), r));
  t.match(err.message, new RegExp(`^cannot make sure ${DEAD} does not restore checkpoint ${r.id} too: the helper of ${DEAD} cannot be reached: .*ECONNREFUSED`));
  t.equal(recordsOf(B).claimOwner(r.id), undefined, 'B\'s claim is released again');

  const closed = await failure(t, claimOtherCopies(who({ helper_port: String(await closedPort()) }), newRecord([LOCAL, B])));
  t.match(closed.message, new RegExp(`^cannot make sure ${B} does not restore checkpoint .* too: the helper of ${B} cannot be reached`), 'a closed port');

  writeFileSync(join(root, 'wrongkey'), randomBytes(32), { mode: 0o600 });
  const wrong = await failure(t, claimOtherCopies(who({ authkey: join(root, 'wrongkey') }), r));
  t.match(wrong.message, new RegExp(`^cannot make sure ${B} does not restore`), 'a helper that does not take our key is not a refusal');
  t.equal(recordsOf(B).claimOwner(r.id), undefined, 'and claimed nothing');

  writeFileSync(join(root, 'openkey'), KEY, { mode: 0o644 });
  chmodSync(join(root, 'openkey'), 0o644);
  const open = await failure(t, claimOtherCopies(who({ authkey: join(root, 'openkey') }), r));
  t.match(open.message, /^cannot make sure .* readable by others/, 'nor is a key others can read');
});

t.test('releaseOtherCopies: releases this node\'s claims, never another node\'s, and never throws', async (t) => {
  const r = newRecord([LOCAL, B, C]);
  receivedOn(B, r);
  await claimOtherCopies(who(), r);
  t.equal(recordsOf(B).claimOwner(r.id), LOCAL);
  t.equal(recordsOf(C).claimOwner(r.id), LOCAL, 'a claim on C although it holds nothing');
  recordsOf(C).releaseClaim(r.id);
  t.ok(recordsOf(C).claim(r.id, 'nodeZ'), 'C\'s claim changes hands meanwhile');
  await t.resolves(releaseOtherCopies(who(), { ...r, copies: [LOCAL, B, DEAD, C] }), 'an unreachable peer does not make it fail');
  t.equal(recordsOf(B).claimOwner(r.id), undefined, 'B released');
  t.equal(recordsOf(C).claimOwner(r.id), 'nodeZ', 'nodeZ\'s claim on C stays');
  t.ok(recordsOf(B).imagesComplete(r.id), 'B\'s copy stays, resumable again');
});

t.test('retireOtherCopies: after a restore here, the peers\' copies are marked restored and removed', async (t) => {
  const r = newRecord([LOCAL, B, DEAD]);
  receivedOn(B, r);
  recordsOf(B).write(r); // B had adopted it (a failed migrate_from there)
  await claimOtherCopies(who(), { ...r, copies: [LOCAL, B] });
  await t.resolves(retireOtherCopies(who(), r), 'an unreachable peer does not make it fail');
  const onB = recordsOf(B).read();
  t.equal(onB?.phase, 'restored');
  t.equal(onB?.restoredOn, LOCAL);
  t.notOk(existsSync(recordsOf(B).store.imagesDir(r.id)), 'B\'s images removed');
  t.equal(recordsOf(B).claimOwner(r.id), undefined, 'B\'s claim released');
  const again = await failure(t, claimOtherCopies(who(), { ...r, copies: [LOCAL, B] }));
  t.match(again.message, /refuses to give up checkpoint .* is restored here \(on nodeA\)/, 'never resumable there again');
});

t.test('checkpointHeldElsewhere: the first peer holding one, and which could not be asked', async (t) => {
  const none = await checkpointHeldElsewhere(who(), [DEAD, B]);
  t.same(none.held, undefined, 'nobody holds one');
  t.equal(none.unreachable.length, 1);
  t.match(none.unreachable[0], new RegExp(`^${DEAD}: the helper of ${DEAD} cannot be reached`));

  const r = { ...newRecord([C, B]), source: C, target: B };
  receivedOn(B, r);
  const found = await checkpointHeldElsewhere(who(), [DEAD, C, B]);
  t.same(found.held, { node: B, checkpoint: { id: r.id, source: C, target: B, dumpedAt: r.dumpedAt } });
  t.equal(found.unreachable.length, 1, 'the dead peer is still reported');

  recordsOf(B).claim(r.id, 'nodeZ');
  t.same((await checkpointHeldElsewhere(who(), [B])).held, undefined, 'claimed by another node: not held');
});

// ---------------------------------------------------------------------------------------------------------------
// sendDirectory: how a transfer ends

const peerB = (): Peer => ({ host: B, port, key: KEY, identity: LOCAL, timeoutMs: 10_000 });

function source(files: Record<string, Buffer | string>): string {
  const dir = mkdtempSync(join(root, 'src-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

/** Everything under the peer's images directory for the resource (what a failed transfer must not have left). */
function imagesOn(peer: string, resource: string): string[] {
  try {
    return readdirSync(join(dirOf(peer), resource, 'images'));
  } catch {
    return [];
  }
}

/** A TLS-PSK server with the helpers' key that does `onSocket` instead of what a helper does. */
async function fakeHelper(t: Test, onSocket: (s: TLSSocket) => void): Promise<number> {
  const sockets: TLSSocket[] = [];
  const server = tlsServer({ pskCallback: () => KEY, pskIdentityHint: 'ferry', ciphers: PSK_CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy(); // a paused socket never notices its client went away
    server.close(() => r());
  }));
  return (server.address() as { port: number }).port;
}

async function transferError(t: Test, p: Promise<unknown>): Promise<TransferError> {
  const err = await failure(t, p);
  t.ok(err instanceof TransferError, `a TransferError (${err.message})`);
  return err as TransferError;
}

t.test('a peer that accepts and never answers: every peer asked at once, each bounded by the action\'s deadline, not 3 s per address in turn', async (t) => {
  // 127.0.0.5 and .6 accept TCP and stay silent (a node whose helper hangs, or a half-dead node): each would cost
  // the whole answer timeout, one after the other, before this change
  const silent = ['127.0.0.5', '127.0.0.6'];
  const held: import('node:net').Socket[] = [];
  const servers = await Promise.all(silent.map(async (address) => {
    const s = netServer((socket) => { held.push(socket); });
    await new Promise<void>((r) => s.listen(port, address, () => r()));
    return s;
  }));
  t.teardown(() => { for (const c of held) c.destroy(); for (const s of servers) s.close(); });
  const budgetMs = 1500;
  setCurrentDeadline(Deadline.in(budgetMs));
  const began = Date.now();
  const asked = await checkpointHeldElsewhere(who(), [...silent, B]);
  const tookMs = Date.now() - began;
  t.equal(asked.unreachable.length, 2, 'both silent peers reported');
  for (const [i, u] of asked.unreachable.entries()) {
    t.match(u, new RegExp(`^${silent[i]}: the helper of ${silent[i]} cannot be reached`));
    t.notMatch(u, /not tried/, 'asked at the same time as the others, not left for after them');
  }
  t.same(asked.held, undefined, 'the answering peer still answered: nothing held');
  // contrasted with the deadline itself: the answer timeout is 3 s, so two silent peers in turn took over 6 s;
  // asking may take half of what is left, so that the start asking can still start
  t.ok(tookMs < budgetMs / 2 + 1000, `done ${tookMs} ms after it began, with the deadline ${budgetMs} ms away`);

  setCurrentDeadline(Deadline.in(100));
  const late = await failure(t, askPeer(who(), B, (p) => health(p)));
  t.match(late.message, /not tried, the action's deadline is \d+ ms away/, 'with too little time left no address is tried');
  setCurrentDeadline(Deadline.none());
});

t.test('sendDirectory: a complete transfer lands whole in DIR/RESOURCE/images/TRANSFER', async (t) => {
  const pages = randomBytes(300_000);
  const dir = source({ 'inventory.img': 'inv', 'pages-1.img': pages, 'ferry-record.json': '{}' });
  const r = await sendDirectory(peerB(), 'ct-send', '20250601120000-0a1b2c3d', dir);
  t.same(r, { path: join(dirOf(B), 'ct-send', 'images', '20250601120000-0a1b2c3d'), bytes: 300_000 + 3 + 2 });
  t.same(readdirSync(r.path).sort(), ['ferry-record.json', 'inventory.img', 'pages-1.img']);
  t.same(readFileSync(join(r.path, 'pages-1.img')), pages, 'bytes intact');
  t.same(imagesOn(B, 'ct-send'), ['20250601120000-0a1b2c3d'], 'nothing else left there');
});

t.test('sendDirectory: the server closing mid-stream is a TransferError, not everything sent', async (t) => {
  let got = 0;
  const fakePort = await fakeHelper(t, (s) => s.on('data', (d: Buffer) => { got += d.length; if (got > 64 * 1024) s.destroy(); }));
  const dir = source({ 'inventory.img': 'inv', 'pages-1.img': randomBytes(16 * 1024 * 1024) });
  const err = await transferError(t, sendDirectory({ ...peerB(), port: fakePort, host: '127.0.0.1' }, 'ct-cut', 't1', dir));
  t.equal(err.allSent, false, 'the peer cannot have every byte');
  t.match(err.message, /^the connection to 127\.0\.0\.1 closed during the transfer/);
});

t.test('sendDirectory: every byte sent but no answer is a TransferError that says the peer may have it all', async (t) => {
  const size = 200_000;
  let got = 0;
  // the header line and the payload have come (at least `size` bytes): close without answering
  const fakePort = await fakeHelper(t, (s) => s.on('data', (d: Buffer) => { got += d.length; if (got >= size) setTimeout(() => s.destroy(), 50); }));
  const dir = source({ 'pages-1.img': randomBytes(size) });
  const err = await transferError(t, sendDirectory({ ...peerB(), port: fakePort, host: '127.0.0.1' }, 'ct-noanswer', 't1', dir));
  t.equal(err.allSent, true, 'the peer may hold a complete copy: its claim is needed before resuming here');
  t.match(err.message, /closed the connection without an answer/);
});

t.test('sendDirectory: a transfer larger than the helper allows is refused, nothing kept, not all sent', async (t) => {
  const dir = source({ 'inventory.img': 'inv', 'pages-1.img': randomBytes(8 * MAX_BYTES) });
  const err = await transferError(t, sendDirectory(peerB(), 'ct-big', 't1', dir));
  t.equal(err.allSent, false);
  t.equal(err.message, `helper at ${B} refused the transfer: transfer of more than ${MAX_BYTES} bytes refused`);
  t.same(imagesOn(B, 'ct-big'), [], 'nothing left on the peer');

  // small enough that every byte is written before the refusal comes back
  const smallDir = mkdtempSync(join(root, 'small-'));
  const small = await serve({ addresses: ['127.0.0.1'], port: 0, key: KEY, dir: smallDir, maxBytes: 4096, node: 'nodeS', criuVersion: undefined, checkpoints: checkpointKeeper });
  t.teardown(() => small.close());
  const few = source({ 'inventory.img': 'inv', 'pages-1.img': randomBytes(5000) });
  const err2 = await transferError(t, sendDirectory({ ...peerB(), host: '127.0.0.1', port: small.ports[0] ?? 0 }, 'ct-big', 't2', few));
  t.equal(err2.message, 'helper at 127.0.0.1 refused the transfer: transfer of more than 4096 bytes refused', 'the helper\'s reason, not just a closed connection');
  t.equal(err2.allSent, false, 'a refusal is the peer\'s word that it kept nothing');
  t.same(readdirSync(smallDir), [], 'and it kept nothing');
});

t.test('sendDirectory: the action\'s deadline stops a transfer the peer does not read', async (t) => {
  const fakePort = await fakeHelper(t, (s) => s.pause());
  const dir = source({ 'pages-1.img': randomBytes(32 * 1024 * 1024) });
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 300);
  const began = Date.now();
  const err = await transferError(t, sendDirectory({ ...peerB(), port: fakePort, host: '127.0.0.1', timeoutMs: 30_000 }, 'ct-slow', 't1', dir, abort.signal));
  t.ok(Date.now() - began < 15_000, `ended after ${Date.now() - began} ms, long before the 30 s silence timeout`);
  t.equal(err.allSent, false);
  t.match(err.message, /^the connection to 127\.0\.0\.1 closed during the transfer: the action's deadline came before the transfer finished$/, 'says why');
});

t.test('dropPartialTransfers: removes what interrupted transfers left, nothing else', async (t) => {
  const d = mkdtempSync(join(root, 'drop-'));
  const mk = (path: string, file = 'x.img') => { mkdirSync(join(d, path), { recursive: true }); writeFileSync(join(d, path, file), 'x'); };
  mk('web1/images/.incoming-t1');
  mk('web1/images/.incoming-t2-pre-1');
  mk('web1/images/.parts-t3/pre-1');
  mk('web1/images/t4', 'inventory.img');
  mk('web1/images/.other');
  mk('web1/claim-t4', 'owner.json');
  mk('web1/.incoming-t5');
  mk('web2/images/.incoming-t6');
  mk('web3');
  writeFileSync(join(d, 'web1', 'migration.json'), '{}');
  writeFileSync(join(d, 'stray-file'), 'x');
  const removed = dropPartialTransfers(d).sort();
  t.same(removed, [
    join(d, 'web1/images/.incoming-t1'), join(d, 'web1/images/.incoming-t2-pre-1'), join(d, 'web1/images/.parts-t3'),
    join(d, 'web2/images/.incoming-t6'),
  ]);
  t.same(readdirSync(join(d, 'web1', 'images')).sort(), ['.other', 't4']);
  t.same(readdirSync(join(d, 'web1')).sort(), ['.incoming-t5', 'claim-t4', 'images', 'migration.json'], 'only inside images/');
  t.same(readdirSync(join(d, 'web2', 'images')), []);
  t.ok(existsSync(join(d, 'web1/images/t4/inventory.img')), 'a complete checkpoint stays');
  t.same(dropPartialTransfers(d), [], 'nothing the second time');
  t.same(dropPartialTransfers(join(d, 'missing')), [], 'a missing directory is empty');

  mk('web1/images/.incoming-t7');
  const h = await serve({ addresses: ['127.0.0.1'], port: 0, key: KEY, dir: d, maxBytes: 1, node: 'x', criuVersion: undefined, checkpoints: checkpointKeeper });
  await h.close();
  t.notOk(existsSync(join(d, 'web1/images/.incoming-t7')), 'a starting helper drops them');
});
