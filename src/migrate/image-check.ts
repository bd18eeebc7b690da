/**
 * Whether the target has the container's image, with the same image ID, before anything is frozen: podman restores
 * a checkpoint onto its image only, so a target without it (or with another build under the same name) would
 * fail the restore after the container was frozen here. The target's helper looks it up (this file's imageLookup,
 * given to `ferry serve`); a helper that cannot answer makes the finding unknown, never a guess.
 */
import { peerImageId } from '../helper/client.js';
import type { ImageLookup } from '../helper/keeper.js';
import { currentDeadline } from '../util/deadline.js';
import type { Finding } from './finding.js';
import type { PeerView } from './peer.js';

export const IMAGE_CHECK = 'target image';
const IMAGE_CHECK_TIMEOUT_MS = 25_000;

/** What the target said: its ID for the image (null: it has none), or why it could not say. */
export type TargetImage = { id: string | null } | { unknown: string };

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/**
 * Pure: the finding for the target's answer about `image`, whose ID here is `localId`. The facts come first and
 * short: Pacemaker keeps 128 characters of an exit reason, and the agent puts "not migrating NAME to NODE (target
 * image): " before this.
 */
export function imageFinding(target: string, image: string, localId: string, answer: TargetImage): Finding {
  // refused, not not-installed: it is the target that lacks the image, and ERR_INSTALLED from migrate_to would ban this node
  const finding = (ok: boolean, fatal: boolean, detail: string): Finding => ({ check: IMAGE_CHECK, ok, fatal, detail, kind: 'refused' });
  if ('unknown' in answer) return finding(false, false, `unknown (${answer.unknown}): whether ${target} has image ${image} was not checked`);
  if (answer.id === null) {
    return finding(false, true, `${target} has no image ${image} (${short(localId)} here): podman restores a `
      + `checkpoint only onto the same image; import or pull it on ${target} with the same image ID`);
  }
  if (answer.id !== localId) {
    return finding(false, true, `${target}'s image ${image} is ${short(answer.id)}, ${short(localId)} here: podman restores a `
      + `checkpoint only onto the same image; give ${target} the same build (podman image inspect shows the ID)`);
  }
  return finding(true, false, `${target} has image ${image} with the same ID (${short(localId)})`);
}

/** Asks the target's helper; every way of not getting an answer becomes "unknown" with its reason. */
export async function targetImage(peer: PeerView, image: string): Promise<TargetImage> {
  const helper = peer.helper;
  if (!helper) return { unknown: peer.problem ?? `no helper of ${peer.target} answered` };
  try {
    return { id: await peerImageId({ ...helper, timeoutMs: currentDeadline().bound(IMAGE_CHECK_TIMEOUT_MS) ?? IMAGE_CHECK_TIMEOUT_MS }, image) };
  } catch (err) {
    return { unknown: err instanceof Error ? err.message : String(err) };
  }
}

/** `localId` is the driver's look-up here; an image gone here since the start (rmi --force) is reported, not compared. */
export async function checkTargetImage(peer: PeerView, image: string, localId: () => Promise<string | undefined>): Promise<Finding> {
  const here = await localId().then((id) => id ?? 'it is not on this node any more', (err: unknown) => `cannot tell its ID here: ${err instanceof Error ? err.message : String(err)}`);
  if (!here.startsWith('sha256:') && !/^[0-9a-f]{64}$/.test(here)) {
    return imageFinding(peer.target, image, '', { unknown: here });
  }
  return imageFinding(peer.target, image, here, await targetImage(peer, image));
}

/** The helper's look-up of images on its node, through podman (with the helper's CRIU first in podman's PATH). */
export function imageLookup(criuBinary: string): ImageLookup {
  return { imageId: async (image) => (await import('../runtime/podman/podman.js')).imageId(criuBinary, image) };
}
