/**
 * Stopping a container on this node: nothing of it may run here afterwards, including a tree left by an
 * interrupted restore, a lazy restore's page fetcher or a lazy dump's page server; a claim this node holds is
 * released so the checkpoint can be resumed elsewhere, and a DRBD device is given up. With checkpoint_on_stop
 * the running container is checkpointed first (stop-checkpoint.ts); the rest then clears what is left of it.
 */
import { existsSync } from 'node:fs';
import { failed, messageOf } from '../util/errors.js';
import { statusPath } from '../criu/background-status.js';
import type { ContainerHere } from './container.js';

export async function stopContainer(here: ContainerHere): Promise<void> {
  const { config, driver } = here;
  if (config.checkpoint_on_stop) {
    // never throws: without a checkpoint the container is stopped below the normal way
    const { checkpointOnStop } = await import('./stop-checkpoint.js');
    await checkpointOnStop(here);
  }
  try {
    await driver.stop();
  } catch (err) {
    throw failed(`could not stop ${config.name}: ${messageOf(err)}`);
  }
  if (existsSync(statusPath(config.name, 'lazy-pages'))) {
    // the container is gone: nothing is left to fetch pages for
    const { stopBackground } = await import('./lazy.js');
    const { forgetBackground } = await import('../criu/background-status.js');
    await stopBackground(config.name, 'lazy-pages');
    forgetBackground(config.name, 'lazy-pages');
  }
  if (existsSync(statusPath(config.name, 'page-server'))) {
    const { finishPageServer } = await import('./lazy-finish.js');
    await finishPageServer(config, here.deadline.reserve(1000));
  }
  if (config.state_dir) {
    const { releaseLocalClaims } = await import('./cleanup.js');
    await releaseLocalClaims(config, await here.localNode());
    const { sweepStateDir } = await import('./image-sweep.js');
    sweepStateDir(config);
  }
  if (config.storage === 'drbd') {
    const { storageFor } = await import('../storage/lifecycle.js');
    try {
      await storageFor(config).detach();
    } catch (err) {
      throw failed(`stopped ${config.name} but could not release DRBD ${config.drbd_resource ?? '?'}: ${messageOf(err)}`);
    }
  }
}
