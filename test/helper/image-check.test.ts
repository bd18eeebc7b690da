/**
 * The target-image check between a source and the target's helper, on loopback: the helper answers with the
 * image's ID through the engine's look-up (a recorded set here, and podman itself for an image no node has), the
 * source's finding follows from that answer; a helper without a look-up, one whose look-up fails, and one that is
 * gone make the answer unknown, not a guess; a bad image name never reaches the look-up.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { serve, type Helper } from '../../src/helper/server.js';
import { peerImageId, type Peer } from '../../src/helper/client.js';
import { rawRequest as rawLine } from './fixtures/raw-request.js';
import type { ImageLookup } from '../../src/helper/keeper.js';
import { checkTargetImage, imageLookup, targetImage } from '../../src/migrate/image-check.js';
import type { PeerView } from '../../src/migrate/peer.js';
import { which } from '../../src/util/which.js';
import { criuForTests } from '../lab/criu-for-tests.js';

const KEY = randomBytes(32);
const root = mkdtempSync(join(tmpdir(), 'ferry-image-'));
process.env.FERRY_RUN_DIR = join(root, 'run');
const IMAGE = 'localhost/ferry-rootfs:latest';
const HERE = '703c7d4acd5e28ffc0bf412952dedd4cc7fb7e236deaa488df8170edeb4f4bf8';
const OTHER = '9a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef';
const helpers: Helper[] = [];
const peer = (p: number): Peer => ({ host: '127.0.0.1', port: p, key: KEY, identity: 'node1', timeoutMs: 10_000 });
const view = (p: number): PeerView => ({ target: 'node2', choice: undefined, problem: undefined, helper: peer(p) });

async function helper(images?: ImageLookup): Promise<number> {
  const h = await serve({ addresses: ['127.0.0.1'], port: 0, key: KEY, dir: join(root, 'dir'), maxBytes: 4096, node: 'node2', criuVersion: '4.2.1', ...(images ? { images } : {}) });
  helpers.push(h);
  return h.ports[0] ?? 0;
}

let lookups: string[] = [];
const recorded = (ids: Record<string, string>): ImageLookup => ({ imageId: async (image) => { lookups.push(image); return ids[image]; } });

t.teardown(async () => {
  await Promise.all(helpers.map((h) => h.close()));
  rmSync(root, { recursive: true, force: true });
});

const rawRequest = (line: string, p: number): Promise<string> => rawLine(KEY, line, p);

t.test('same ID, another ID, none: the target\'s answer decides the finding', async (t) => {
  const same = await helper(recorded({ [IMAGE]: HERE }));
  t.equal(await peerImageId(peer(same), IMAGE), HERE);
  t.match(await checkTargetImage(view(same), IMAGE, async () => HERE), { check: 'target image', ok: true, fatal: false });
  const other = await helper(recorded({ [IMAGE]: OTHER }));
  t.match(await checkTargetImage(view(other), IMAGE, async () => HERE), { ok: false, fatal: true, detail: /node2's image localhost\/ferry-rootfs:latest is 9a1b2c3d4e5f, 703c7d4acd5e here/ });
  const none = await helper(recorded({}));
  t.equal(await peerImageId(peer(none), IMAGE), null, 'absent: null, not an error');
  t.match(await checkTargetImage(view(none), IMAGE, async () => HERE), { ok: false, fatal: true, detail: /node2 has no image localhost\/ferry-rootfs:latest \(703c7d4acd5e here\)/ });
});

t.test('a bad image name never reaches the look-up', async (t) => {
  lookups = [];
  const p = await helper(recorded({ [IMAGE]: HERE }));
  t.match(await rawRequest(`${JSON.stringify({ op: 'image', image: '$(reboot)' })}\n`, p), /"ok":false.*invalid image name/);
  t.match(await rawRequest(`${JSON.stringify({ op: 'image', image: '../../etc' })}\n`, p), /"ok":false.*invalid image name/);
  t.match(await rawRequest('{"op":"image"}\n', p), /"ok":false.*invalid image name/);
  t.same(lookups, [], 'the look-up was never called');
});

t.test('a helper that cannot look up, fails to, or is gone: unknown, not fatal', async (t) => {
  const without = await helper();
  t.same(await targetImage(view(without), IMAGE), { unknown: 'helper at 127.0.0.1 cannot tell the image\'s ID: this helper cannot look up container images' });
  const failing = await helper({ imageId: async () => { throw new Error('podman image inspect failed: database is locked'); } });
  t.match(await checkTargetImage(view(failing), IMAGE, async () => HERE), { ok: false, fatal: false, detail: /^unknown \(.*database is locked\)/ });
  const gone = await helper();
  await helpers.pop()?.close();
  const dead = await targetImage(view(gone), IMAGE);
  t.match(dead, { unknown: /ECONNREFUSED/ });
});

t.test('podman itself, through the engine\'s look-up: an image no node has is absent', { skip: which('podman') && process.getuid?.() === 0 ? false : 'needs podman and root' }, async (t) => {
  const criu = await criuForTests();
  const p = await helper(imageLookup(criu));
  t.equal(await peerImageId(peer(p), 'localhost/ferry-no-such-image:never'), null);
});
