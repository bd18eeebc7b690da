/**
 * What a peer may ask of the checkpoints this node holds (storage=none): claim one before restoring it
 * elsewhere, release that claim when the restore failed, report that it was restored (so this copy is never
 * resumed), and tell which checkpoint of an unfinished migration is held here. The rules are in
 * peer-claims.ts; this is the side the helper answers with (it is given checkpointKeeper, and knows only the
 * interface), acting on its own state directory.
 */
import { StateStore } from '../storage/state-store.js';
import { heldCheckpoint, RecordStore } from './record.js';
import type { Answer, CheckpointRequest, HeldRequest } from '../helper/protocol.js';
import type { CheckpointKeeper } from '../helper/keeper.js';
import { readJson, removeQuietly } from '../util/files.js';
import { identityOf, isAlive } from '../util/proc.js';
import { readLocalRecord, readRestoreIntent, restoredRootPid } from '../runtime/local-record.js';
import { incomingDir, retireRoot } from '../storage/file-tree/places.js';
import type { MigrationRecord } from './record.js';
import { sweepDirectory } from './image-sweep.js';

/**
 * A container's files after checkpoint `id` was restored on `node` (file-sync.ts): on its source they are no
 * longer the container's and are set aside; a copy that was on its way here is obsolete.
 */
function settleFiles(store: RecordStore, ours: MigrationRecord | undefined, id: string, node: string): void {
  if (ours?.files && node !== ours.source) { retireRoot(ours.files.root, id); return; }
  const travelled = ours ?? readJson<MigrationRecord>(store.store.travellingRecordPath(id));
  if (travelled?.files && node !== travelled.target) removeQuietly(incomingDir(travelled.files.root, id));
}

function records(dir: string, resource: string): RecordStore {
  return new RecordStore(new StateStore(dir, resource));
}

/** Milliseconds since the epoch encoded at the start of a migration id (see newMigrationId). */
function idTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-/.exec(id);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : 0;
}

/**
 * A restore of `ours` that this node began and that can no longer be going on: nothing of the container runs here
 * (no node-local record, no live tree where the restore's pidfile points). The node crashed or its agent was
 * killed mid-migrate_from; Pacemaker only lets another node start the resource once it has stopped it here.
 */
function restoreInterruptedHere(ours: MigrationRecord): boolean {
  if (readLocalRecord(ours.name)) return false;
  const intent = readRestoreIntent(ours.name);
  if (!intent || intent.migrationId !== ours.id) return true;
  const pid = restoredRootPid(intent);
  if (pid === undefined) return true; // CRIU made no tree (its action script names the root as soon as there is one)
  const tree = identityOf(pid);
  return !(tree && isAlive(tree));
}

function checkpointOp(dir: string, r: CheckpointRequest, node: string): Answer {
  const store = records(dir, r.resource);
  const here = store.read();
  const ours = here?.id === r.id ? here : undefined;
  switch (r.op) {
    case 'claim': {
      if (ours && (ours.phase === 'restored' || ours.phase === 'aborted')) {
        return { ok: false, error: `checkpoint ${r.id} is ${ours.phase} here${ours.restoredOn ? ` (on ${ours.restoredOn})` : ''}`, settled: ours.phase };
      }
      // a node that has since moved on to a newer migration can no longer vouch for this one being unused
      if (!ours && here && here.dumpStartedAt > idTime(r.id) + 1000 && here.phase !== 'aborted') {
        return { ok: false, error: `a newer migration (${here.id}, ${here.phase}) has happened since checkpoint ${r.id}`, settled: 'restored' };
      }
      // also when nothing of it is here: the claim then stands in for a transfer that might still complete
      store.store.ensure();
      if (!store.claim(r.id, r.node) && store.claimOwner(r.id) !== r.node) {
        const owner = store.claimOwner(r.id);
        if (!(ours && owner === node && ours.phase === 'restoring' && restoreInterruptedHere(ours))) {
          return { ok: false, error: `checkpoint ${r.id} is claimed by ${owner ?? 'another node'}` };
        }
        // this node's own restore of it was cut off (finding: the claim stranded the checkpoint on both nodes)
        store.releaseClaim(r.id);
        store.update(ours, { phase: 'dumped', lastError: `the restore here was interrupted; claimed by ${r.node}` });
        if (!store.claim(r.id, r.node)) return { ok: false, error: `checkpoint ${r.id} was claimed concurrently` };
        return { ok: true, done: `claimed ${r.id} for ${r.node} (the restore interrupted on ${node} is given up)` };
      }
      return { ok: true, done: `claimed ${r.id} for ${r.node}` };
    }
    case 'release':
      if (store.claimOwner(r.id) === r.node) store.releaseClaim(r.id);
      return { ok: true, done: `released ${r.id}` };
    case 'restored':
      settleFiles(store, ours, r.id, r.node);
      if (ours && ours.phase !== 'restored') store.update(ours, { phase: 'restored', restoredOn: r.node });
      store.removeImages(r.id);
      if (store.claimOwner(r.id) === r.node) store.releaseClaim(r.id);
      return { ok: true, done: `${r.id} restored on ${r.node}: copy removed` };
  }
}

function heldOp(dir: string, r: HeldRequest): Answer {
  const held = heldCheckpoint(records(dir, r.resource));
  return { ok: true, held: held ? { id: held.id, source: held.source, target: held.target, dumpedAt: held.dumpedAt ?? held.dumpStartedAt } : null };
}

export const checkpointKeeper: CheckpointKeeper = { checkpoint: checkpointOp, held: heldOp, sweep: (dir) => sweepDirectory(dir) };
