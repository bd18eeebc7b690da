/**
 * One DRBD resource with the filesystem Ferry keeps the container on: reading its state, promoting, demoting,
 * mounting. Every command through drbdadm (drbd-utils 9 drives both DRBD 9 and 8.4 modules). The minor number is
 * remembered in /run so monitor can read /proc/drbd (8.4) instead of running three commands every few seconds.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../util/run.js';
import { ensurePrivateDir, readJson, writeJsonAtomic } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { fromDrbdadmRuns, fromProcDrbd, type DrbdState } from './drbd-state.js';

export interface DrbdVolumeConfig { resource: string; mountPoint: string; fstype: string; mountOptions: string | undefined }

const minorFile = (resource: string) => join(runDir(), 'drbd', `${resource}.json`);
const LOCAL_STATE = '/var/lib/ferry/drbd';

export class DrbdVolume {
  constructor(readonly c: DrbdVolumeConfig) {}

  async state(): Promise<DrbdState> {
    const ask = (what: string) => run('drbdadm', [what, this.c.resource], { allowFailure: true, timeoutMs: 10_000 });
    const [role, cstate, dstate] = await Promise.all([ask('role'), ask('cstate'), ask('dstate')]);
    return fromDrbdadmRuns(role, cstate, dstate);
  }

  /** The cheap read for monitor: /proc/drbd when this is an 8.4 module and the minor is known, else drbdadm. */
  async quickState(): Promise<DrbdState> {
    const minor = readJson<{ minor: number }>(minorFile(this.c.resource))?.minor;
    if (minor !== undefined) {
      try {
        const s = fromProcDrbd(readFileSync('/proc/drbd', 'utf8'), minor);
        if (s) return s;
      } catch { /* DRBD 9 has no per-minor status there */ }
    }
    return this.state();
  }

  /** The resource's configuration as drbdadm resolves it (defaults it does not print are DRBD's). */
  async dump(): Promise<string> {
    return (await run('drbdadm', ['dump', this.c.resource], { timeoutMs: 10_000 })).stdout;
  }

  async device(): Promise<string> {
    const r = await run('drbdadm', ['sh-dev', this.c.resource], { timeoutMs: 10_000 });
    const dev = r.stdout.trim();
    const minor = /(\d+)$/.exec(dev)?.[1];
    if (minor !== undefined) {
      ensurePrivateDir(runDir());
      ensurePrivateDir(join(runDir(), 'drbd'));
      writeJsonAtomic(minorFile(this.c.resource), { minor: Number(minor), device: dev });
    }
    return dev;
  }

  /**
   * Kept on local disk (a reboot must not forget it): this node was Primary and demoted while disconnected, so it
   * holds writes the peer lacks and may promote without it.
   */
  private lastPrimaryFile(): string {
    return join(LOCAL_STATE, `${this.c.resource}.last-primary-alone`);
  }

  lastPrimaryAlone(): boolean {
    return existsSync(this.lastPrimaryFile());
  }

  rememberLastPrimaryAlone(): void {
    ensurePrivateDir(LOCAL_STATE);
    writeJsonAtomic(this.lastPrimaryFile(), { at: new Date().toISOString() });
  }

  forgetLastPrimaryAlone(): void {
    rmSync(this.lastPrimaryFile(), { force: true });
  }

  async promote(): Promise<void> {
    await run('drbdadm', ['primary', this.c.resource], { timeoutMs: 30_000 });
  }

  async demote(): Promise<void> {
    await run('drbdadm', ['secondary', this.c.resource], { timeoutMs: 30_000 });
  }

  mounted(): boolean {
    try {
      return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === this.c.mountPoint);
    } catch {
      return false;
    }
  }

  async mount(): Promise<void> {
    if (this.mounted()) return;
    const dev = await this.device();
    await run('mount', ['-t', this.c.fstype, ...(this.c.mountOptions ? ['-o', this.c.mountOptions] : []), dev, this.c.mountPoint], { timeoutMs: 60_000 });
  }

  /** Flushes the filesystem, so that the unmount that follows has nothing left to write. */
  async sync(): Promise<void> {
    if (this.mounted()) await run('sync', ['-f', this.c.mountPoint], { timeoutMs: 60_000 });
  }

  async unmount(): Promise<void> {
    if (!this.mounted()) return;
    await run('umount', [this.c.mountPoint], { timeoutMs: 60_000 });
  }
}
