/**
 * The target-image check before a podman migration, without root: which image requests the helper accepts, and
 * the finding the source makes of the target's answer: fatal when the target lacks the image or has another ID
 * (naming the image and both IDs), never fatal when the target's helper cannot answer.
 */
import t from 'tap';
import { parseRequest } from '../../src/helper/protocol.js';
import { checkTargetImage, imageFinding, targetImage } from '../../src/migrate/image-check.js';
import type { PeerView } from '../../src/migrate/peer.js';

const IMAGE = 'localhost/ferry-rootfs:latest';
const HERE = '703c7d4acd5e28ffc0bf412952dedd4cc7fb7e236deaa488df8170edeb4f4bf8';
const THERE = '9a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef';

t.test('the helper takes an image name or ID, nothing else', async (t) => {
  t.same(parseRequest(JSON.stringify({ op: 'image', image: IMAGE }), 1), { op: 'image', image: IMAGE });
  t.same(parseRequest(JSON.stringify({ op: 'image', image: `sha256:${HERE}` }), 1), { op: 'image', image: `sha256:${HERE}` });
  for (const bad of [undefined, '', 'a b', '$(reboot)', '../../etc/passwd', 'x/../y', '-rf', 'x'.repeat(300), 5]) {
    t.throws(() => parseRequest(JSON.stringify({ op: 'image', image: bad }), 1), { message: 'invalid image name' }, `refused: ${JSON.stringify(bad)}`);
  }
});

t.test('the finding: same ID passes, absent or different is fatal with both IDs, unknown is not fatal', async (t) => {
  t.match(imageFinding('node2', IMAGE, HERE, { id: HERE }), { check: 'target image', ok: true, fatal: false });
  const absent = imageFinding('node2', IMAGE, HERE, { id: null });
  t.match(absent, { check: 'target image', ok: false, fatal: true, kind: 'refused' });
  t.match(absent.detail, `node2 has no image ${IMAGE} (703c7d4acd5e here)`);
  const differs = imageFinding('node2', IMAGE, HERE, { id: THERE });
  t.match(differs, { ok: false, fatal: true });
  t.match(differs.detail, `node2's image ${IMAGE} is 9a1b2c3d4e5f, 703c7d4acd5e here`);
  t.match(imageFinding('node2', IMAGE, HERE, { unknown: 'the helper of node2 does not answer' }),
    { ok: false, fatal: false, detail: /^unknown \(the helper of node2 does not answer\): whether node2 has image/ });
});

t.test('no helper to ask, or no image here to compare: unknown, with the reason', async (t) => {
  const blind: PeerView = { target: 'node2', choice: undefined, problem: 'the helper of node2 does not answer' };
  t.same(await targetImage(blind, IMAGE), { unknown: 'the helper of node2 does not answer' });
  t.match(await checkTargetImage(blind, IMAGE, async () => HERE), { ok: false, fatal: false, detail: /^unknown \(the helper of node2 does not answer\)/ });
  t.match(await checkTargetImage(blind, IMAGE, async () => undefined), { ok: false, fatal: false, detail: /^unknown \(it is not on this node any more\)/ });
  t.match(await checkTargetImage(blind, IMAGE, async () => { throw new Error('podman hangs'); }), { fatal: false, detail: /cannot tell its ID here: podman hangs/ });
});
