/**
 * The end of a lazy migration, seen from each side: on the restoring node monitor notices that lazy-pages ended
 * (all pages in: tidy up and record when; failed: the container's memory is incomplete), on the source stop waits
 * for the page server to have served everything before it cleans up.
 */
import { rmSync } from 'node:fs';
import type { Config } from '../settings/params.js';
import { StateStore } from '../storage/state-store.js';
import { writeJsonAtomic } from '../util/files.js';
import { logger } from '../util/log.js';
import type { Deadline } from '../util/deadline.js';
import { forgetBackground, readBackground } from '../criu/background-status.js';
import { readLog } from '../criu/criu.js';
import { parseLazyPagesTransferred } from '../criu/stats.js';
import { RecordStore } from './record.js';
import { killStrandedTree, LAZY_STALL_MS, lazyPagesProgress, lazyWorkDir, waitPageServer } from './lazy.js';
import { describeSummary, summarize } from './summary.js';
import { msOfSilence } from '../util/tcp-silence.js';

/** Why a running lazy-pages counts as starved, if it does: its connection to the page server silent too long. */
async function stalledFetch(config: Config): Promise<string | undefined> {
  const record = config.state_dir ? new RecordStore(new StateStore(config.state_dir, config.name)).read() : undefined;
  if (!record?.lazy) return undefined;
  const silentMs = await msOfSilence('lastrcv', ['dst', record.lazy.address, 'dport', '=', String(record.lazy.port)]);
  if (silentMs === undefined || silentMs < LAZY_STALL_MS) return undefined;
  return `fetching the memory of ${config.name} from the source has stalled: nothing came from its page server `
    + `(${record.lazy.address}:${record.lazy.port}) for ${(silentMs / 1000).toFixed(0)} s, the migration link is down: its memory is incomplete`;
}


/** On the node that restored lazily: undefined while fine, else why the container's memory cannot be trusted. */
export async function checkLazyRestore(config: Config): Promise<string | undefined> {
  const progress = lazyPagesProgress(config.name);
  if (progress.state === 'failed') {
    return `fetching the memory of ${config.name} from the source failed (${progress.why}): its memory is incomplete`;
  }
  if (progress.state === 'running') return stalledFetch(config);
  if (progress.state === 'succeeded') {
    const endedAt = readBackground(config.name, 'lazy-pages')?.endedAt ?? Date.now();
    const records = config.state_dir ? new RecordStore(new StateStore(config.state_dir, config.name)) : undefined;
    const record = records?.read();
    if (records && record?.lazy && record.lazyDoneAt === undefined) {
      const fetched = parseLazyPagesTransferred(readLog(lazyWorkDir(config.name), 'lazy-pages.log'));
      const done = records.update(record, { lazyDoneAt: endedAt, ...(fetched !== undefined ? { lazyPagesFetched: fetched } : {}) });
      const summary = summarize(done);
      writeJsonAtomic(records.store.statsPath(), summary);
      logger.info(`all memory of ${config.name} arrived: ${describeSummary(summary)}`);
      if (!config.keep_images) records.removeImages(done.id);
    }
    forgetBackground(config.name, 'lazy-pages');
    rmSync(lazyWorkDir(config.name), { recursive: true, force: true });
  }
  return undefined;
}

/** On the source: waits until the target has every page (bounded by `deadline`), then removes the images. */
export async function finishPageServer(config: Config, deadline: Deadline): Promise<void> {
  const outcome = await waitPageServer(config.name, deadline);
  if (outcome === 'none') return;
  if (outcome === 'running') {
    logger.warning(`the page server of ${config.name} is still serving memory to the target at the stop deadline: left running `
      + `(killing it would lose the pages the target has not fetched yet; it ends by itself once they are)`);
    return;
  }
  if (outcome !== 'succeeded') logger.warning(`the page server of ${config.name} ended badly (${outcome}): pages the target had not fetched are lost`);
  else logger.info(`the target has fetched all memory of ${config.name}`);
  if (killStrandedTree(config.name)) logger.warning(`killed the frozen tree of ${config.name} that its page server left behind`);
  forgetBackground(config.name, 'page-server');
  const records = config.state_dir ? new RecordStore(new StateStore(config.state_dir, config.name)) : undefined;
  const record = records?.read();
  if (records && record?.lazy && record.phase === 'restored' && !config.keep_images) records.removeImages(record.id);
}
