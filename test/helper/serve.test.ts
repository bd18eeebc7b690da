/**
 * `ferry serve` security, on loopback: only the holder of the shared key gets in (no key, a wrong key, a
 * replayed handshake are refused by TLS-PSK), bad transfers are refused and leave nothing on disk, one transfer
 * per resource at a time, and it listens only where it is told.
 */
import t from 'tap';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as netConnect, createServer as netServer, type Socket } from 'node:net';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { serve, type Helper } from '../../src/helper/server.js';
import { health, sendDirectory } from '../../src/helper/client.js';
import { generateAuthkey, readAuthkey } from '../../src/helper/authkey.js';
import { PSK_CIPHERS } from '../../src/helper/protocol.js';

const KEY = randomBytes(32);
const root = mkdtempSync(join(tmpdir(), 'ferry-helper-'));
const incoming = join(root, 'incoming');
let helper: Helper;
let port = 0;
// generous silence timeouts (client and helper): no test here waits for one to fire, and a loaded machine may pause
const peer = (key = KEY) => ({ host: '127.0.0.1', port, key, identity: 'test-node', timeoutMs: 10_000 });

t.before(async () => {
  mkdirSync(incoming, { mode: 0o700 });
  helper = await serve({ addresses: ['127.0.0.1'], port: 0, key: KEY, dir: incoming, maxBytes: 4096, node: 'nodeT', criuVersion: '4.2.1', idleTimeoutMs: 10_000 });
  port = helper.ports[0] ?? 0;
});
t.teardown(async () => {
  await helper.close();
  rmSync(root, { recursive: true, force: true });
  for (const d of sources) rmSync(d, { recursive: true, force: true });
});
const sources: string[] = [];

/** Everything under the incoming directory, recursively (what a refused request must not have left). */
function tree(dir = incoming): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [e.name + '/', ...tree(join(dir, e.name)).map((x) => `${e.name}/${x}`)] : [e.name]));
}

/**
 * Sends a raw request line (and optional payload) inside a proper TLS-PSK session; `answer` is the answer line,
 * once the connection closes. `socket` lets the caller cut the session itself.
 */
function openRequest(line: string, payload: Buffer = Buffer.alloc(0)): { answer: Promise<string>; socket: TLSSocket } {
  let socket: TLSSocket | undefined;
  const answer = new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ciphers: PSK_CIPHERS, maxVersion: 'TLSv1.2', pskCallback: () => ({ psk: KEY, identity: 't' }), checkServerIdentity: () => undefined }, () => {
      s.write(`${line}\n`);
      if (payload.length) s.write(payload);
    });
    socket = s;
    let text = '';
    s.on('data', (d: Buffer) => { text += d.toString(); });
    s.on('close', () => resolve(text.trim()));
    s.on('error', reject);
  });
  return { answer, socket: socket as unknown as TLSSocket };
}

function rawRequest(line: string, payload: Buffer = Buffer.alloc(0)): Promise<string> {
  return openRequest(line, payload).answer;
}

/** Polls `read` until `done` holds or `ms` pass; returns its last value (the caller asserts on it). */
async function eventually<T>(ms: number, read: () => T, done: (v: T) => boolean): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('health with the shared key', async (t) => {
  const h = await health(peer());
  t.equal(h.node, 'nodeT');
  t.equal(h.criuVersion, '4.2.1');
  t.ok(Math.abs(h.time - Date.now()) < 5000, 'reports its clock (for the skew check)');
});

t.test('a wrong key is refused by the handshake', async (t) => {
  await t.rejects(health(peer(randomBytes(32))), 'handshake fails');
  t.same(tree(), [], 'nothing on disk');
});

t.test('no key at all: plain TCP and certificate-only TLS get nothing', async (t) => {
  const plain = await new Promise<string>((resolve) => {
    const s = netConnect(port, '127.0.0.1', () => s.write('{"op":"health"}\n'));
    let text = '';
    s.on('data', (d) => { text += d.toString('latin1'); });
    s.on('close', () => resolve(text));
    s.on('error', () => resolve(text));
  });
  t.notMatch(plain, /protocol/, 'no answer to a plain request');
  await t.rejects(new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
    s.on('error', reject);
  }), 'TLS without the PSK fails');
});

t.test('a replayed handshake is refused', async (t) => {
  // record a real client's bytes through a relay, then send the same bytes again on a new connection
  const recorded: Buffer[] = [];
  const relay = netServer((client: Socket) => {
    const upstream = netConnect(port, '127.0.0.1');
    client.on('data', (d: Buffer) => { recorded.push(d); upstream.write(d); });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  const relayPort = (relay.address() as { port: number }).port;
  const h = await health({ ...peer(), port: relayPort });
  t.equal(h.node, 'nodeT', 'the recorded session itself worked');
  const replayAnswer = await new Promise<string>((resolve) => {
    const s = netConnect(port, '127.0.0.1', () => { for (const chunk of recorded) s.write(chunk); });
    let text = '';
    s.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    s.on('close', () => resolve(text));
    s.on('error', () => resolve(text));
    setTimeout(() => s.destroy(), 1500);
  });
  t.notMatch(replayAnswer, /"protocol"/, 'the replay gets no answer');
  relay.close();
});

t.test('image names that leave the directory are refused, nothing written', async (t) => {
  for (const name of ['../evil', '/etc/passwd', 'a/../../b', '..', '.hidden', 'x\u0000y']) {
    const a = await rawRequest(JSON.stringify({ op: 'receive', resource: 'ct1', transfer: 't1', files: [{ name, size: 3 }] }), Buffer.from('abc'));
    t.match(a, /"ok":false/, `refused: ${JSON.stringify(name)}`);
  }
  const a = await rawRequest(JSON.stringify({ op: 'receive', resource: '../ct1', transfer: 't1', files: [{ name: 'x', size: 1 }] }), Buffer.from('a'));
  t.match(a, /invalid resource name/, 'resource names are checked too');
  t.same(tree(), [], 'nothing on disk');
  t.notOk(existsSync(join(root, 'evil')), 'nothing outside either');
});

t.test('oversize transfers are refused, announced or not', async (t) => {
  const announced = await rawRequest(JSON.stringify({ op: 'receive', resource: 'ct1', transfer: 't2', files: [{ name: 'pages-1.img', size: 5000 }] }));
  t.match(announced, /more than 4096 bytes/, 'announced oversize refused before any byte');
  const lying = await rawRequest(JSON.stringify({ op: 'receive', resource: 'ct1', transfer: 't3', files: [{ name: 'pages-1.img', size: 10 }] }), Buffer.alloc(20, 1));
  t.match(lying, /more bytes than announced/, 'more bytes than announced refused');
  t.same(tree().filter((p) => !p.endsWith('/')), [], 'no file left behind');
});

t.test('one transfer per resource at a time; an interrupted one leaves nothing', async (t) => {
  const first = openRequest(JSON.stringify({ op: 'receive', resource: 'ct2', transfer: 'a', files: [{ name: 'x.img', size: 100 }] }), Buffer.alloc(10, 1));
  // the helper is receiving the first once its file is there (10 of 100 bytes): then, not after a guessed delay, ask again
  const receiving = await eventually(10_000, () => tree().includes('ct2/images/.incoming-a/x.img'), (x) => x);
  t.ok(receiving, 'the first transfer is under way', { tree: tree() });
  const second = await rawRequest(JSON.stringify({ op: 'receive', resource: 'ct2', transfer: 'b', files: [{ name: 'x.img', size: 1 }] }), Buffer.alloc(1, 1));
  t.match(second, /already running/, 'the concurrent transfer is refused');
  first.socket.destroy();
  t.equal(await first.answer, '', 'the first, cut off by its client, gets no success');
  const files = await eventually(10_000, () => tree().filter((p) => !p.endsWith('/')), (f) => f.length === 0);
  t.same(files, [], 'the interrupted transfer left no file');
});

t.test('a complete transfer lands whole, private, under the resource', async (t) => {
  const src = mkdtempSync(join(tmpdir(), 'ferry-src-'));
  sources.push(src);
  writeFileSync(join(src, 'inventory.img'), 'inv');
  writeFileSync(join(src, 'pages-1.img'), randomBytes(2000));
  const r = await sendDirectory(peer(), 'ct3', 'm1', src);
  t.equal(r.bytes, 2003);
  t.equal(r.path, join(incoming, 'ct3', 'images', 'm1'));
  t.same(readFileSync(join(r.path, 'pages-1.img')), readFileSync(join(src, 'pages-1.img')), 'bytes intact');
  t.equal(statSync(r.path).mode & 0o777, 0o700, 'directory 0700');
  t.equal(statSync(join(r.path, 'pages-1.img')).mode & 0o777, 0o600, 'files 0600');
});

t.test('pre-copy rounds travel ahead and are gathered, with their parent links, by the final transfer', async (t) => {
  const src = mkdtempSync(join(tmpdir(), 'ferry-src-'));
  sources.push(src);
  for (const round of ['pre-1', 'pre-2']) {
    mkdirSync(join(src, round));
    writeFileSync(join(src, round, 'pages-1.img'), randomBytes(300));
  }
  symlinkSync('../pre-1', join(src, 'pre-2', 'parent'));
  writeFileSync(join(src, 'inventory.img'), 'inv');
  symlinkSync('pre-2', join(src, 'parent'));
  await sendDirectory(peer(), 'ct4', 'm2', join(src, 'pre-1'), undefined, 'pre-1');
  await sendDirectory(peer(), 'ct4', 'm2', join(src, 'pre-2'), undefined, 'pre-2');
  t.notOk(existsSync(join(incoming, 'ct4', 'images', 'm2')), 'no checkpoint appears before the final transfer');
  const r = await sendDirectory(peer(), 'ct4', 'm2', src);
  t.same(readdirSync(r.path).sort(), ['inventory.img', 'parent', 'pre-1', 'pre-2'], 'the rounds moved inside the checkpoint');
  t.equal(readlinkSync(join(r.path, 'parent')), 'pre-2');
  t.equal(readlinkSync(join(r.path, 'pre-2', 'parent')), '../pre-1');
  t.same(readFileSync(join(r.path, 'parent', 'parent', 'pages-1.img')), readFileSync(join(src, 'pre-1', 'pages-1.img')), 'the chain resolves to the bytes sent');
  t.notOk(existsSync(join(incoming, 'ct4', 'images', '.parts-m2')), 'nothing left aside');
});

t.test('links that could point anywhere but the round before are refused', async (t) => {
  for (const target of ['/etc', '../../x', 'pre-1/../../..', '../ct1', 'pre-x']) {
    const a = await rawRequest(JSON.stringify({ op: 'receive', resource: 'ct5', transfer: 't1', files: [{ name: 'a.img', size: 1 }], links: [{ name: 'parent', target }] }), Buffer.from('a'));
    t.match(a, /invalid link target/, `refused: ${target}`);
  }
  const other = await rawRequest(JSON.stringify({ op: 'receive', resource: 'ct5', transfer: 't1', files: [{ name: 'a.img', size: 1 }], links: [{ name: 'x', target: 'pre-1' }] }), Buffer.from('a'));
  t.match(other, /only link allowed is \\"parent/);
  const part = await rawRequest(JSON.stringify({ op: 'receive', resource: 'ct5', transfer: 't1', part: '../pre-1', files: [{ name: 'a.img', size: 1 }] }), Buffer.from('a'));
  t.match(part, /invalid part name/);
});

t.test('listens only where told, never everywhere by default', async (t) => {
  const ss = await execa('ss', ['-ltnH']);
  const lines = ss.stdout.split('\n').filter((l) => l.includes(`:${port} `));
  t.ok(lines.length >= 1 && lines.every((l) => l.includes(`127.0.0.1:${port}`)), lines.join(' | '));
  await t.rejects(serve({ addresses: [], port: 0, key: KEY, dir: incoming, maxBytes: 1, node: 'x', criuVersion: undefined }), /no address to listen on/);
});

t.test('the authkey: made 0600, refused when others can read it', async (t) => {
  const path = join(root, 'etc', 'authkey');
  generateAuthkey(path);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(readAuthkey(path).length, 32);
  t.throws(() => generateAuthkey(path), 'does not overwrite without force');
  chmodSync(path, 0o644);
  t.throws(() => readAuthkey(path), /readable by others/);
});

t.test('the helper removes checkpoint images that can no longer serve: when it starts and every interval after', async (t) => {
  const { checkpointKeeper } = await import('../../src/migrate/checkpoint-keeper.js');
  const { RecordStore } = await import('../../src/migrate/record.js');
  const { StateStore } = await import('../../src/storage/state-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sweep-helper-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const records = new RecordStore(new StateStore(dir, 'web1'));
  records.store.ensure();
  const at = Date.now();
  const base = { name: 'web1', source: 'node1', target: 'nodeT', requestedType: 'simple', type: 'simple', dumpStartedAt: at, dumpedAt: at, updatedAt: new Date(at).toISOString() } as const;
  const setAside = records.write({ ...base, id: '20261202120000-aaaaaaaa', phase: 'aborted' });
  mkdirSync(records.store.imagesDir(setAside.id), { recursive: true });
  const h = await serve({ addresses: ['127.0.0.1'], port: 0, key: KEY, dir, maxBytes: 4096, node: 'nodeT', criuVersion: undefined, checkpoints: checkpointKeeper, sweepIntervalMs: 200 });
  t.teardown(() => h.close());
  t.notOk(existsSync(records.store.imagesDir(setAside.id)), 'removed as the helper started');
  // a copy restored elsewhere while the helper runs (its "restored" notice lost): gone within an interval
  const restored = records.write({ ...base, id: '20261202120001-bbbbbbbb', phase: 'restored' });
  mkdirSync(records.store.imagesDir(restored.id), { recursive: true });
  const until = Date.now() + 5000;
  while (existsSync(records.store.imagesDir(restored.id)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.notOk(existsSync(records.store.imagesDir(restored.id)), 'removed by the periodic sweep');
});
