/**
 * checkpoint_on_stop, the decisions: whether a stop checkpoints the container first (and how long the dump may
 * take), and what start does when such a checkpoint cannot be resumed. Pure: the effects are in stop-checkpoint.ts
 * and start.ts.
 */

export interface StopCheckpointInput {
  enabled: boolean;
  stateDir: string | undefined;
  /** The container's root pid here, undefined when nothing runs here. */
  pid: number | undefined;
  /** This node is a lazy migration's source: the container already runs on the target. */
  lazySource: boolean;
  /** The record's phase here: "restoring" means a restore did not finish, and what runs may be half a tree. */
  recordPhase: string | undefined;
  /** ms left before stop's own deadline. */
  remainingMs: number;
  /** stop_timeout in seconds: what the plain stop after a failed dump may still need. */
  stopTimeoutS: number;
  /** The container's resident memory: what the dump writes. */
  residentBytes: number;
}

export type StopCheckpointDecision =
  | { checkpoint: true; dumpBudgetMs: number; estimateMs: number }
  | { checkpoint: false; why: string; /** worth a warning: the admin asked for a checkpoint and gets none */ warn: boolean };

/**
 * A conservative write rate for the estimate (a simple dump of 1 GiB took about 5 s on the lab's disk, ~200 MiB/s;
 * NFS is slower): a dump that cannot fit is not started at all, and CRIU is bounded by the budget anyway.
 */
export const DUMP_BYTES_PER_MS = (64 * 1048576) / 1000;
/** CRIU's fixed cost: freezing, walking the tree, sockets, writing the inventory. */
export const DUMP_FIXED_MS = 1500;
/** Kept back after the dump's budget for what the plain stop needs beyond stop_timeout (veth, records, claims). */
export const STOP_AFTER_DUMP_MS = 4000;

export function estimateDumpMs(residentBytes: number): number {
  return DUMP_FIXED_MS + Math.ceil(residentBytes / DUMP_BYTES_PER_MS);
}

export function decideStopCheckpoint(i: StopCheckpointInput): StopCheckpointDecision {
  if (!i.enabled) return { checkpoint: false, why: 'checkpoint_on_stop is false', warn: false };
  if (!i.stateDir) return { checkpoint: false, why: 'checkpoint_on_stop needs state_dir, which is not set', warn: true };
  if (i.pid === undefined) return { checkpoint: false, why: 'the container is not running here: nothing to checkpoint', warn: false };
  if (i.lazySource) return { checkpoint: false, why: 'this node is the source of a lazy migration: the container runs on the target', warn: false };
  if (i.recordPhase === 'restoring') {
    // that checkpoint is the container's state: stop releases it for the next start instead of replacing it
    return { checkpoint: false, why: 'a restore of an earlier checkpoint did not finish here: that checkpoint is kept for the next start', warn: true };
  }
  // the plain stop must still fit after a dump that used all of its budget and failed
  const dumpBudgetMs = i.remainingMs - i.stopTimeoutS * 1000 - STOP_AFTER_DUMP_MS;
  const estimateMs = estimateDumpMs(i.residentBytes);
  if (estimateMs > dumpBudgetMs) {
    return {
      checkpoint: false, warn: true,
      why: `a checkpoint of ${(i.residentBytes / 1048576).toFixed(0)} MiB would take about ${(estimateMs / 1000).toFixed(1)} s and only `
        + `${(Math.max(0, dumpBudgetMs) / 1000).toFixed(1)} s are left for it before the stop timeout (stop_timeout=${i.stopTimeoutS} s kept for a plain stop): `
        + 'give the stop operation a longer timeout',
    };
  }
  return { checkpoint: true, dumpBudgetMs, estimateMs };
}

/**
 * A checkpoint made by stop that cannot be restored (incomplete images, a runtime configuration changed since,
 * CRIU failed) is set aside and the container starts afresh: stopping was the admin's choice and the container
 * is expected to come up. An unfinished migration's keeps failing the start, so that it is not lost (record.ts).
 */
export function afterFailedResume(stopCheckpoint: boolean): 'start-afresh' | 'fail' {
  return stopCheckpoint ? 'start-afresh' : 'fail';
}

/**
 * storage=none, a start on a node without the checkpoint: a peer's checkpoint made by stop does not keep this node
 * from starting afresh (the peer's copy is then claimed so it is never resumed); an unfinished migration's does.
 */
export function peerCheckpointBlocksStart(peerTarget: string, anyNode: string): boolean {
  return peerTarget !== anyNode;
}
