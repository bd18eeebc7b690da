/**
 * Starting a container on this node: idempotent; resumes the checkpoint of an unfinished migration when there is
 * one (nothing is lost), else starts it afresh. Returns once the container is up and monitor_cmd (if set) passes.
 */
import type { Config } from '../settings/params.js';
import { failed, FerryError, messageOf, refused } from '../util/errors.js';
import { logger } from '../util/log.js';
import type { ContainerHere } from './container.js';
import type { EngineContext } from './context.js';
import type { MigrationRecord } from './record.js';
import { requirePrograms, requireStateDir } from './node-checks.js';

export async function startContainer(here: ContainerHere): Promise<void> {
  const { config, driver } = here;
  const status = driver.status();
  if (status.state === 'running') {
    logger.info(`${config.name} is already running (${status.detail})`);
    return;
  }
  await requirePrograms(config, driver);
  if (config.storage === 'drbd') {
    const { storageFor } = await import('../storage/lifecycle.js');
    await storageFor(config).attach(); // state_dir and the container's files are on the DRBD device
  }
  requireStateDir(config);
  if (status.state === 'dead') await driver.stop(); // clear the record of a container that died

  try {
    if (!(await resumedFromCheckpoint(here, config))) await driver.start();
    await waitHealthy(here);
    const { sweepStateDir } = await import('./image-sweep.js');
    sweepStateDir(config);
  } catch (err) {
    if (err instanceof FerryError) throw err;
    await driver.stop().catch(() => undefined);
    throw failed(`could not start ${config.name}: ${messageOf(err)}`);
  }
}

async function resumedFromCheckpoint(here: ContainerHere, config: Config): Promise<boolean> {
  if (!config.state_dir) return false;
  const { engineContext } = await import('./context.js');
  const { adoptReceived, isStopCheckpoint, pendingCheckpoint } = await import('./record.js');
  const engine = engineContext(config, await here.localNode(), here.driver, here.deadline);
  if (config.storage === 'none') {
    const adopted = adoptReceived(engine.records, () => true);
    if (adopted) logger.info(`found checkpoint ${adopted.id} of ${config.name} received from ${adopted.source}`);
  }
  let record = engine.records.read();
  const owner = record ? engine.records.claimOwner(record.id) : undefined;
  /** A peer that claimed this node's copy and cannot be asked about it now (crashed or fenced mid-migrate_from). */
  let gone: string[] = [];
  if (record && config.storage === 'none' && owner && owner !== engine.localNode && (record.phase === 'dumped' || record.phase === 'restoring')) {
    const verdict = isStopCheckpoint(record) ? 'has it' : await askClaimant(engine, record, owner);
    if (verdict === 'has it') {
      // the peer claimed this copy to restore its own (or, a checkpoint made by stop, started afresh): it has the
      // container's state since, not this node
      const what = isStopCheckpoint(record) ? 'which started it afresh since' : 'which restored it';
      logger.notice(`checkpoint ${record.id} was claimed by ${owner}, ${what}: not resuming it here`);
      record = engine.records.setAside(record, isStopCheckpoint(record) ? `superseded on ${owner}` : `restored on ${owner}`, config.keep_images);
    } else {
      // its restore never finished there: Pacemaker has stopped the resource there before starting it here, and a
      // node can restore its own copy only by claiming this one, which this node now keeps for its own resume
      logger.notice(verdict === 'gave it up'
        ? `checkpoint ${record.id} was claimed by ${owner}, whose restore never finished: ${owner} gave it up, resuming it here`
        : `checkpoint ${record.id} was claimed by ${owner}, which cannot be asked now (crashed or fenced mid-migration?): resuming it here`);
      engine.records.releaseClaim(record.id);
      if (verdict === 'unreachable') gone = [owner];
    }
  }
  const pending = pendingCheckpoint(record, config.checkpoint_max_age);
  if (!record || !pending.resume) {
    if (record && (record.phase === 'dumped' || record.phase === 'restoring')) {
      logger.warning(`not resuming checkpoint ${record.id}: ${pending.resume ? '' : pending.why}; setting it aside and starting afresh`);
      engine.records.setAside(record, 'set aside by start', config.keep_images);
    } else if (record?.phase === 'dumping') {
      // the source died (or its agent was killed) before the dump completed: there is no state to resume
      logger.notice(`starting ${config.name} afresh: the dump of migration ${record.id} on ${record.source} never completed, no checkpoint to resume`);
    } else if (record?.phase === 'restored') {
      logger.info(`starting ${config.name} afresh: the last migration (${record.id}) was restored${record.restoredOn ? ` on ${record.restoredOn}` : ''}, its checkpoint spent`);
    }
    if (config.storage === 'none') await refuseIfHeldElsewhere(engine);
    return false;
  }
  const onStop = isStopCheckpoint(record);
  logger.notice(onStop
    ? `resuming ${config.name} from checkpoint ${record.id}, made when ${record.source} stopped it (checkpoint_on_stop)`
    : `resuming ${config.name} from checkpoint ${record.id} of an unfinished migration (${record.source} -> ${record.target})`);
  const { restoreCheckpoint } = await import('./target.js');
  try {
    await restoreCheckpoint(engine, record, 'resume', gone);
  } catch (err) {
    const { RestoredElsewhere } = await import('./peer-claims.js');
    if (err instanceof RestoredElsewhere) {
      // restored on the peer since (its claim here was lost): the container moved on, this copy is obsolete
      logger.notice(`not resuming checkpoint ${record.id}: ${err.message}; setting it aside`);
      engine.records.releaseClaim(record.id);
      engine.records.setAside(engine.records.read() ?? record, `restored elsewhere: ${err.message}`, config.keep_images);
      await refuseIfHeldElsewhere(engine);
      return false;
    }
    const { afterFailedResume } = await import('./stop-checkpoint-plan.js');
    if (afterFailedResume(onStop) === 'fail') throw err;
    logger.warning(`could not resume ${config.name} from checkpoint ${record.id} made by stop (${messageOf(err)}): setting it aside and starting afresh`);
    const now = engine.records.read() ?? record;
    engine.records.setAside(now, `set aside by start: ${messageOf(err)}`, config.keep_images);
    return false;
  }
  return true;
}

/**
 * storage=none: whether `owner`, which claimed this node's copy of a migration's checkpoint, restored it (then it
 * has the container's state since) or never finished (then the copy here is the container's state). Asked by
 * claiming the owner's copy in turn: granted, or set aside there, means it never restored it and now never will.
 */
async function askClaimant(engine: EngineContext, record: MigrationRecord, owner: string): Promise<'has it' | 'gave it up' | 'unreachable'> {
  const { askPeer, PeerUnreachable } = await import('./peer-claims.js');
  const { checkpointRequest, PeerRefusal } = await import('../helper/client.js');
  try {
    await askPeer(engine, owner, (p) => checkpointRequest(p, 'claim', engine.config.name, record.id, engine.localNode));
    return 'gave it up';
  } catch (err) {
    if (err instanceof PeerRefusal) return err.settled === 'aborted' ? 'gave it up' : 'has it';
    if (err instanceof PeerUnreachable) return 'unreachable';
    throw err;
  }
}

/** storage=none: a fresh start here would lose the checkpoint another node holds of an unfinished migration. */
async function refuseIfHeldElsewhere(engine: EngineContext): Promise<void> {
  const { checkpointHeldElsewhere } = await import('./peer-claims.js');
  const { otherClusterNodes } = await import('../util/node-name.js');
  const { config, localNode } = engine;
  const { held, unreachable } = await checkpointHeldElsewhere(engine, await otherClusterNodes(localNode));
  for (const u of unreachable) logger.warning(`cannot ask whether a peer holds a checkpoint of ${config.name}: ${u}`);
  if (!held) return;
  const ageS = Math.round((Date.now() - held.checkpoint.dumpedAt) / 1000);
  const { peerCheckpointBlocksStart } = await import('./stop-checkpoint-plan.js');
  const { ANY_NODE } = await import('./record.js');
  if (!peerCheckpointBlocksStart(held.checkpoint.target, ANY_NODE)) {
    // a checkpoint made by stop stays on the node that made it: starting afresh here supersedes it for good
    logger.warning(`${held.node} holds checkpoint ${held.checkpoint.id} of ${config.name}, made by stop ${ageS} s ago (storage=none: `
      + `only ${held.node} can resume it); starting afresh on ${localNode} and claiming that copy so it is never resumed`);
    const { retireCopyOn } = await import('./peer-claims.js');
    await retireCopyOn(engine, held.node, held.checkpoint.id).catch((err: unknown) =>
      logger.warning(`could not claim ${held.node}'s checkpoint ${held.checkpoint.id}: ${messageOf(err)}; a later start there may resume that older state`));
    return;
  }
  if (config.checkpoint_max_age === 0 || ageS > config.checkpoint_max_age) {
    logger.warning(`${held.node} holds checkpoint ${held.checkpoint.id} of ${config.name}, ${ageS} s old: too old to resume (checkpoint_max_age=${config.checkpoint_max_age}), starting afresh`);
    return;
  }
  throw refused(`${held.node} holds checkpoint ${held.checkpoint.id} of an unfinished migration of ${config.name} `
    + `(${held.checkpoint.source} -> ${held.checkpoint.target}, ${ageS} s old); not starting afresh on ${localNode}, which would lose it: `
    + `start ${config.name} on ${held.node}, where it is resumed`);
}

async function waitHealthy(here: ContainerHere): Promise<void> {
  const { driver } = here;
  let last = '';
  const stopAt = here.deadline.at - 2000;
  for (;;) {
    try {
      await driver.healthCheck();
      return;
    } catch (err) {
      last = messageOf(err);
    }
    if (driver.status().state !== 'running') throw new Error(`the container exited while starting (${last})`);
    if (Date.now() + 500 > stopAt) throw new Error(`monitor_cmd did not pass before the start timeout: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
