/**
 * Checkpoint images hold a container's memory, secrets included, so none stays on disk longer than it can serve:
 *   - a set-aside (aborted) checkpoint's images go at once (RecordStore.setAside), and again here if that failed;
 *   - a restored one's, unless lazy pages are still being read from them (lazy-finish.ts removes those then);
 *   - any other's once untouched for longer than the checkpoint_max_age it was made under (no start resumes it
 *     then), but never within 15 minutes of its last change (a migration under way, whatever that setting);
 *   - a directory no record explains once it is older than an hour (a transfer's leftovers are dropped earlier, by
 *     the helper: receiver.ts).
 * keep_images (recorded with the checkpoint) keeps them all. The agent sweeps its own STATE_DIR/NAME on start
 * and stop; `ferry serve` sweeps every resource of its directory (storage=none's copies) every minute, so a copy
 * whose node never starts the container again is still bounded.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../settings/params.js';
import { StateStore } from '../storage/state-store.js';
import { listQuietly, readJson } from '../util/files.js';
import { RecordStore, type MigrationRecord } from './record.js';
import { logger } from '../util/log.js';

/** What a record without retention (made before it existed) is kept for: checkpoint_max_age's default. */
const DEFAULT_MAX_AGE_S = 600;
/** A directory of images that no record names: the longest any migration's own steps can take to write one. */
const UNEXPLAINED_MAX_AGE_MS = 3600_000;

export function retentionOf(config: Pick<Config, 'checkpoint_max_age' | 'keep_images'>): NonNullable<MigrationRecord['retention']> {
  return { maxAgeS: config.checkpoint_max_age, keepImages: config.keep_images };
}

function travellingRecord(store: StateStore, id: string): MigrationRecord | undefined {
  try {
    return readJson<MigrationRecord>(store.travellingRecordPath(id));
  } catch {
    return undefined;
  }
}

function ownRecord(records: RecordStore): MigrationRecord | undefined {
  try {
    return records.read();
  } catch {
    return undefined;
  }
}

/**
 * A migration's own steps never leave its images untouched this long between being written and being restored
 * (a transfer, Pacemaker's hand-over): checkpoint_max_age, even 0, never cuts a migration under way.
 */
const IN_USE_FLOOR_S = 900;

/**
 * Why the images of `record` may go now, or undefined while they may still serve. `touchedAt`: when its record
 * last changed on this node (a received copy's arrival, not its dump: a long transfer must not expire on arrival).
 */
export function imagesExpired(record: MigrationRecord, now: number, touchedAt = 0): string | undefined {
  const { maxAgeS, keepImages } = record.retention ?? { maxAgeS: DEFAULT_MAX_AGE_S, keepImages: false };
  if (keepImages) return undefined;
  if (record.phase === 'aborted') return 'set aside';
  if (record.phase === 'restored' && (!record.lazy || record.lazyDoneAt !== undefined)) return 'restored';
  // a lazy restore still reading them, a dump, a transfer or a restore under way: only past the age no start resumes
  const since = Math.max(record.lazyDoneAt ?? 0, record.dumpedAt ?? record.dumpStartedAt, Date.parse(record.updatedAt) || 0, touchedAt);
  const limitS = Math.max(maxAgeS, IN_USE_FLOOR_S);
  const ageS = Math.round((now - since) / 1000);
  if (ageS > limitS) return `untouched for ${ageS} s, past ${limitS} s (checkpoint_max_age=${maxAgeS})`;
  return undefined;
}

function mtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Removes the image sets of STATE_DIR/NAME that can no longer serve; returns what it removed and why. */
export function sweepImages(records: RecordStore, now = Date.now()): string[] {
  const { store } = records;
  const own = ownRecord(records);
  const removed: string[] = [];
  for (const id of listQuietly(store.imagesRoot())) {
    if (id.startsWith('.')) continue; // a transfer in progress (the helper's)
    const mine = own?.id === id;
    const record = mine ? own : travellingRecord(store, id);
    let why: string | undefined;
    if (record) {
      why = imagesExpired(record, now, mtimeMs(mine ? store.recordPath() : store.travellingRecordPath(id)));
    } else if (now - (mtimeMs(store.imagesDir(id)) ?? now) > UNEXPLAINED_MAX_AGE_MS) {
      why = 'no record names them';
    }
    if (!why) continue;
    records.removeImages(id);
    removed.push(`images/${id} (${why})`);
  }
  return removed;
}

/** `sweepImages` for every resource kept in `dir` (the helper's directory). */
export function sweepDirectory(dir: string, now = Date.now()): string[] {
  return listQuietly(dir).flatMap((resource) => {
    try {
      if (!statSync(join(dir, resource, 'images')).isDirectory()) return [];
    } catch {
      return [];
    }
    return sweepImages(new RecordStore(new StateStore(dir, resource)), now).map((r) => `${resource}/${r}`);
  });
}

/** The agent's sweep of its own STATE_DIR/NAME: never fails the action it runs in, says what it removed. */
export function sweepStateDir(config: Pick<Config, 'state_dir' | 'name'>): void {
  if (!config.state_dir) return;
  try {
    const removed = sweepImages(new RecordStore(new StateStore(config.state_dir, config.name)));
    if (removed.length) logger.info(`removed checkpoint images that can no longer serve: ${removed.join(', ')}`);
  } catch (err) {
    logger.warning(`could not look for checkpoint images to remove in ${config.state_dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
