/**
 * What a peer may ask of the checkpoints this node holds (storage=none): claim one before restoring it
 * elsewhere, release that claim when the restore failed, report that it was restored (so this copy is never
 * resumed), and tell which checkpoint of an unfinished migration is held here. The rules are in
 * migrate/peer-claims.ts; this is the helper's side, acting on its own state directory.
 */
import { StateStore } from '../storage/state-store.js';
import { heldCheckpoint, RecordStore } from '../migrate/record.js';
import type { Answer, CheckpointRequest, HeldRequest } from './protocol.js';

function records(dir: string, resource: string): RecordStore {
  return new RecordStore(new StateStore(dir, resource));
}

/** Milliseconds since the epoch encoded at the start of a migration id (see newMigrationId). */
function idTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-/.exec(id);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : 0;
}

export function checkpointOp(dir: string, r: CheckpointRequest): Answer {
  const store = records(dir, r.resource);
  const here = store.read();
  const ours = here?.id === r.id ? here : undefined;
  switch (r.op) {
    case 'claim': {
      if (ours && (ours.phase === 'restored' || ours.phase === 'aborted')) {
        return { ok: false, error: `checkpoint ${r.id} is ${ours.phase} here${ours.restoredOn ? ` (on ${ours.restoredOn})` : ''}` };
      }
      // a node that has since moved on to a newer migration can no longer vouch for this one being unused
      if (!ours && here && here.dumpStartedAt > idTime(r.id) + 1000 && here.phase !== 'aborted') {
        return { ok: false, error: `a newer migration (${here.id}, ${here.phase}) has happened since checkpoint ${r.id}` };
      }
      // also when nothing of it is here: the claim then stands in for a transfer that might still complete
      store.store.ensure();
      if (!store.claim(r.id, r.node) && store.claimOwner(r.id) !== r.node) {
        return { ok: false, error: `checkpoint ${r.id} is claimed by ${store.claimOwner(r.id) ?? 'another node'}` };
      }
      return { ok: true, done: `claimed ${r.id} for ${r.node}` };
    }
    case 'release':
      if (store.claimOwner(r.id) === r.node) store.releaseClaim(r.id);
      return { ok: true, done: `released ${r.id}` };
    case 'restored':
      if (ours && ours.phase !== 'restored') store.update(ours, { phase: 'restored', restoredOn: r.node });
      store.removeImages(r.id);
      if (store.claimOwner(r.id) === r.node) store.releaseClaim(r.id);
      return { ok: true, done: `${r.id} restored on ${r.node}: copy removed` };
  }
}

export function heldOp(dir: string, r: HeldRequest): Answer {
  const held = heldCheckpoint(records(dir, r.resource));
  return { ok: true, held: held ? { id: held.id, source: held.source, target: held.target, dumpedAt: held.dumpedAt ?? held.dumpStartedAt } : null };
}
