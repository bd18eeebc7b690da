/**
 * What each kind of storage needs done around the container's life on a node. Shared storage and storage=none
 * need nothing (state_dir is simply there); DRBD hands its device over: start promotes and mounts, stop unmounts
 * and demotes, the source of a migration hands off after its dump, the target takes over before its restore.
 */
import type { Config } from '../settings/params.js';
import { refused } from '../util/errors.js';
import { logger } from '../util/log.js';
import { DrbdVolume } from './drbd.js';
import { dualPrimaryProblem, handOffProblem, linkLost, runProblem, startProblem, takeOverProblem, type DrbdState } from './drbd-state.js';

export interface StorageLifecycle {
  /** start (or resume) on this node: make state_dir and the container's files usable here. */
  attach(): Promise<void>;
  /** stop, once the container is gone: let them go. */
  detach(): Promise<void>;
  /** monitor, container running: why it must not run here, if so. */
  runProblem(): Promise<string | undefined>;
  /** source, before freezing: why the target could not take over, if so. */
  handOffProblem(): Promise<string | undefined>;
  /** source, after the dump: the time of each step, in ms; refuses (the device kept here) if the peer went away. */
  handOff(): Promise<Record<string, number>>;
  /** target, before the restore: the time of each step, in ms. */
  takeOver(): Promise<Record<string, number>>;
}

/** Runs named steps in order, timing each. */
async function timed(steps: [string, () => Promise<void>][]): Promise<Record<string, number>> {
  const ms: Record<string, number> = {};
  for (const [name, step] of steps) {
    const began = Date.now();
    await step();
    ms[name] = Date.now() - began;
  }
  return ms;
}

const NOTHING_TO_DO: StorageLifecycle = {
  attach: async () => undefined, detach: async () => undefined, runProblem: async () => undefined,
  handOffProblem: async () => undefined, handOff: async () => ({}), takeOver: async () => ({}),
};

const describe = (s: DrbdState) => `${s.role}/${s.peerRole} ${s.connection} ${s.disk}/${s.peerDisk}`;

function drbdLifecycle(config: Config, volume: DrbdVolume): StorageLifecycle {
  const name = config.drbd_resource ?? '';
  const refuse = (what: string, s: DrbdState, why: string) =>
    refused(`cannot ${what}: DRBD ${name} (${describe(s)}): ${why}`);
  return {
    async attach() {
      const s = await volume.state();
      if (s.role !== 'Primary') {
        const why = startProblem(s, volume.lastPrimaryAlone());
        if (why) throw refuse(`take ${config.name}'s storage here`, s, why);
        if (s.connection !== 'Connected') logger.warning(`promoting DRBD ${name} without its peer (${describe(s)}): the peer gets none of the writes until it reconnects`);
        logger.info(`promoting DRBD ${name} (${describe(s)})`);
        await volume.promote();
      }
      volume.forgetLastPrimaryAlone();
      await volume.mount();
    },
    async detach() {
      await volume.unmount();
      const s = await volume.state();
      if (s.role === 'Primary') {
        logger.info(`demoting DRBD ${name}`);
        await volume.demote();
        // alone, this node had writes the peer lacks: it stays the one that may promote without the peer
        if (s.connection !== 'Connected') volume.rememberLastPrimaryAlone();
      }
    },
    async runProblem() {
      const s = await volume.quickState();
      const why = runProblem(s);
      if (why) return `DRBD ${name} (${describe(s)}): ${why}`;
      return volume.mounted() ? undefined : `DRBD ${name}'s filesystem is not mounted at ${config.mount_point ?? '?'}`;
    },
    async handOffProblem() {
      const s = await volume.state();
      const why = handOffProblem(s) ?? dualPrimaryProblem(await volume.dump());
      return why ? `DRBD ${name} (${describe(s)}): ${why}` : undefined;
    },
    async handOff() {
      const ms = await timed([['sync', () => volume.sync()], ['umount', () => volume.unmount()]]);
      // every write is on the disk now: the peer has them all only if it is still connected and UpToDate
      const s = await volume.state();
      const why = handOffProblem(s);
      if (why) {
        await volume.mount();
        throw refuse(`hand ${config.name} over`, s, `${why}; the device stays here`);
      }
      Object.assign(ms, await timed([['demote', () => volume.demote()]]));
      logger.info(`handed DRBD ${name} over: sync ${ms.sync} ms, umount ${ms.umount} ms, demote ${ms.demote} ms`);
      return ms;
    },
    async takeOver() {
      const s = await volume.state();
      const why = takeOverProblem(s) ?? dualPrimaryProblem(await volume.dump());
      if (why) throw refuse(`take ${config.name} over`, s, why);
      if (linkLost(s)) {
        logger.warning(`promoting DRBD ${name} without its peer (${describe(s)}): the link went away after the source handed the device over, `
          + 'which it did only once this node had every write; the peer gets the new writes when it reconnects');
      }
      const ms = await timed([['promote', () => volume.promote()], ['mount', () => volume.mount()]]);
      volume.forgetLastPrimaryAlone();
      logger.info(`took DRBD ${name} over: promote ${ms.promote} ms, mount ${ms.mount} ms (${config.mount_point ?? '?'})`);
      return ms;
    },
  };
}

export function storageFor(config: Config): StorageLifecycle {
  if (config.storage !== 'drbd' || !config.drbd_resource || !config.mount_point) return NOTHING_TO_DO;
  return drbdLifecycle(config, new DrbdVolume({ resource: config.drbd_resource, mountPoint: config.mount_point, fstype: config.fstype, mountOptions: config.mount_options }));
}
