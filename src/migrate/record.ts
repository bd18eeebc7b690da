/**
 * The migration record: one JSON file in STATE_DIR/NAME that both nodes consult, so that a container runs on
 * exactly one node whatever fails. The protocol:
 *
 *   source, migrate_to:   phase "dumping"  -> criu dump (the source tree is gone only if the dump succeeded)
 *                         -> phase "dumped" (images complete) | "aborted" (dump failed, the source runs on)
 *   target, migrate_from: claim (mkdir claim-ID: atomic, also on NFS; only one node may restore a checkpoint)
 *                         -> phase "restoring" -> criu restore -> phase "restored"
 *                         restore failed: the restored tasks are killed, the claim released, phase back to
 *                         "dumped"
 *   any node, start:      a "dumped" or "restoring" checkpoint younger than checkpoint_max_age is resumed
 *                         (claim + restore) instead of a fresh start, so a failed migration loses nothing
 *   any node, stop:       kills what this node runs, including a tree left by an interrupted restore, and
 *                         releases this node's claim. With checkpoint_on_stop it first dumps the running container
 *                         as above (phase "dumping" -> "dumped"), with target ANY_NODE ("*"): no node is expected,
 *                         whichever starts it next claims and resumes it like an unfinished migration's
 *                         (stop-checkpoint.ts); a failed dump ends "aborted" and the container is stopped plainly
 *
 * Pacemaker never runs start while it believes the resource is active elsewhere and always stops a node's copy
 * before starting another, so a claim left by a node that has since been stopped (or fenced) may be taken over.
 *
 * storage=none: each node has its own STATE_DIR/NAME. The source sends the sealed checkpoint with this record
 * (copies: [source, target]) to the target's helper; the target adopts it in migrate_from (or start). Claims then
 * span the nodes: see peer-claims.ts. A lazy checkpoint (record.lazy) can be restored once: see lazy.ts.
 * A checkpoint made by stop never travels (no copies): only this node can resume it. A start on another node
 * starts afresh and claims that copy through its helper, which keeps it from ever being resumed (start.ts).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { listQuietly, readJson, writeJsonAtomic, removeQuietly } from '../util/files.js';
import type { StateStore } from '../storage/state-store.js';
import type { MigrationType } from '../settings/params.js';
import type { DumpStats, RestoreStats } from '../criu/stats.js';
import type { NetworkLock, PageServerAddress } from '../criu/args.js';
import { RUNTIME_ARCHIVE } from '../runtime/driver.js';

export type MigrationPhase = 'dumping' | 'dumped' | 'restoring' | 'restored' | 'aborted';

export interface MigrationRecord {
  id: string;
  name: string;
  source: string;
  target: string;
  requestedType: MigrationType;
  type: MigrationType;
  phase: MigrationPhase;
  /** Wall-clock ms when the source began freezing (dump start). */
  dumpStartedAt: number;
  dumpedAt?: number;
  /** Wall-clock ms when the restoring node began its restore (after Pacemaker handed over). */
  restoreStartedAt?: number;
  restoredAt?: number;
  restoredOn?: string;
  dumpStats?: DumpStats;
  /** How CRIU kept the container's connections from answering while it was frozen (iptables or nftables rules). */
  networkLock?: NetworkLock;
  restoreStats?: RestoreStats;
  lastError?: string;
  /**
   * storage=none: the nodes that may hold a complete copy of the checkpoint. Restoring it anywhere needs the
   * claim on every one of them (see migrate/peer-claims.ts); absent with shared storage (one copy).
   */
  copies?: string[];
  /** storage=drbd: how long each step of the hand-over took (sync, umount, demote on the source; promote, mount on the target). */
  storageMs?: Record<string, number>;
  /** Iterative migration: the pre-copy rounds (pages written, duration, frozen ms) and why they stopped. */
  precopy?: { rounds: { pages: number; ms: number; frozenMs: number }[]; why: string };
  /** Lazy migration: where the source serves the pages the images lack (once: see migrate/lazy.ts). */
  lazy?: PageServerAddress;
  /** Lazy migration: wall-clock ms when the last page had arrived on the restoring node. */
  lazyDoneAt?: number;
  /** Lazy migrations: pages lazy-pages fetched from the source (CRIU's "UFFD transferred pages"), once all arrived. */
  lazyPagesFetched?: number;
  /**
   * The container runtime's own configuration on the source when it was checkpointed (an LXC config's effective
   * values): a node whose configuration differs refuses to restore it (runtime-config.ts).
   */
  runtimeConfig?: Record<string, readonly string[]>;
  /**
   * storage=none with a container whose files are on the node's own disk (an LXC root filesystem): the tree that
   * moves with it (migrate/file-sync.ts), and what its final sync carried while the container was frozen.
   */
  files?: { root: string; finalSync?: { ms: number; bytes: number; changed: number; removed: number }; preSync?: { ms: number; bytes: number } };
  /**
   * How long the images stay on disk, whoever holds them (migrate/image-sweep.ts): the checkpoint_max_age they were
   * made under (no start resumes them later), and keep_images (the admin keeps them for debugging).
   */
  retention?: { maxAgeS: number; keepImages: boolean };
  updatedAt: string;
}

/** The target of a checkpoint made by stop (checkpoint_on_stop): meant for whichever node starts the container next. */
export const ANY_NODE = '*';

export function isStopCheckpoint(record: Pick<MigrationRecord, 'target'>): boolean {
  return record.target === ANY_NODE;
}

export function newMigrationId(): string {
  return `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(4).toString('hex')}`;
}

export class RecordStore {
  constructor(readonly store: StateStore) {}

  read(): MigrationRecord | undefined {
    return readJson<MigrationRecord>(this.store.recordPath());
  }

  write(record: MigrationRecord): MigrationRecord {
    const next = { ...record, updatedAt: new Date().toISOString() };
    writeJsonAtomic(this.store.recordPath(), next);
    return next;
  }

  update(record: MigrationRecord, change: Partial<MigrationRecord>): MigrationRecord {
    return this.write({ ...record, ...change });
  }

  /** Atomically claims the checkpoint for this node; false when another claim exists. */
  claim(id: string, node: string): boolean {
    try {
      mkdirSync(this.store.claimPath(id), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    writeJsonAtomic(`${this.store.claimPath(id)}/owner.json`, { node, at: new Date().toISOString() });
    return true;
  }

  claimOwner(id: string): string | undefined {
    return readJson<{ node: string }>(`${this.store.claimPath(id)}/owner.json`)?.node;
  }

  releaseClaim(id: string): void {
    removeQuietly(this.store.claimPath(id));
  }

  removeImages(id: string): void {
    removeQuietly(this.store.imagesDir(id));
  }

  /**
   * A checkpoint no start will resume: the record keeps why, the images, which hold the container's memory, go
   * unless keep_images asked to keep them (a failed restore has kept its CRIU log beside the record already).
   */
  setAside(record: MigrationRecord, lastError: string, keepImages: boolean): MigrationRecord {
    const next = this.update(record, { phase: 'aborted', lastError });
    if (!keepImages) this.removeImages(record.id);
    return next;
  }

  /** Removes image sets and claims of every migration but `keepId` (leftovers of interrupted runs). */
  removeStale(keepId?: string): string[] {
    const removed: string[] = [];
    for (const entry of listQuietly(this.store.imagesRoot())) {
      if (entry !== keepId) { rmSync(`${this.store.imagesRoot()}/${entry}`, { recursive: true, force: true }); removed.push(`images/${entry}`); }
    }
    for (const entry of listQuietly(this.store.root)) {
      if (entry.startsWith('claim-') && entry !== `claim-${keepId}`) { removeQuietly(`${this.store.root}/${entry}`); removed.push(entry); }
    }
    return removed;
  }

  ageMs(record: MigrationRecord, now = Date.now()): number {
    return now - (record.dumpedAt ?? record.dumpStartedAt);
  }

  /** CRIU's inventory, or the archive of a runtime that checkpoints itself (written under its name only when complete). */
  imagesComplete(id: string): boolean {
    return ['inventory.img', RUNTIME_ARCHIVE].some((file) => {
      try {
        return statSync(`${this.store.imagesDir(id)}/${file}`).isFile();
      } catch {
        return false;
      }
    });
  }
}


/** A checkpoint that the next start should resume: complete, not yet restored, not too old. */
export function pendingCheckpoint(record: MigrationRecord | undefined, maxAgeS: number, now = Date.now()):
  { resume: true } | { resume: false; why: string } {
  if (!record) return { resume: false, why: 'no migration record' };
  if (record.phase !== 'dumped' && record.phase !== 'restoring') return { resume: false, why: `last migration is ${record.phase}` };
  if (maxAgeS === 0) return { resume: false, why: 'checkpoint_max_age=0 never resumes checkpoints' };
  const age = now - (record.dumpedAt ?? record.dumpStartedAt);
  if (age > maxAgeS * 1000) return { resume: false, why: `checkpoint ${record.id} is ${Math.round(age / 1000)} s old (checkpoint_max_age=${maxAgeS})` };
  return { resume: true };
}

/** The travelling records of complete image sets received from a peer (storage=none), newest first. */
export function receivedCheckpoints(records: RecordStore): MigrationRecord[] {
  const found: MigrationRecord[] = [];
  for (const id of listQuietly(records.store.imagesRoot())) {
    if (id.startsWith('.') || !records.imagesComplete(id)) continue;
    const travelled = readJsonQuietly(records.store.travellingRecordPath(id));
    if (travelled?.id === id && travelled.phase === 'dumped') found.push(travelled);
  }
  return found.sort((a, b) => (b.dumpedAt ?? 0) - (a.dumpedAt ?? 0));
}

/** The checkpoint of an unfinished migration this node could resume: its record's, else the newest received. */
export function heldCheckpoint(records: RecordStore): MigrationRecord | undefined {
  const own = readRecordQuietly(records);
  // a claim on it means a node has restored it (or is restoring it): nothing to resume here
  if (own && (own.phase === 'dumped' || own.phase === 'restoring') && records.imagesComplete(own.id) && records.claimOwner(own.id) === undefined) return own;
  return receivedCheckpoints(records).find((r) => r.id !== own?.id && records.claimOwner(r.id) === undefined
    && (!own || (r.dumpedAt ?? 0) > own.dumpStartedAt));
}

function readRecordQuietly(records: RecordStore): MigrationRecord | undefined {
  try {
    return records.read();
  } catch {
    return undefined;
  }
}

function readJsonQuietly(path: string): MigrationRecord | undefined {
  try {
    return readJson<MigrationRecord>(path);
  } catch {
    return undefined;
  }
}

/**
 * storage=none: makes the newest received checkpoint that `accept` takes (and no other node has claimed) this
 * node's migration record, unless the record already is that migration or a newer one.
 */
export function adoptReceived(records: RecordStore, accept: (r: MigrationRecord) => boolean): MigrationRecord | undefined {
  const own = readRecordQuietly(records);
  const received = receivedCheckpoints(records).find((r) => accept(r) && records.claimOwner(r.id) === undefined);
  if (!received || received.id === own?.id || (own && own.dumpStartedAt >= received.dumpStartedAt)) return undefined;
  return records.write(received);
}
