/**
 * A container with storage=shared in the guest lab: its files and state_dir on the 9p share both guests mount at
 * /shared (standing in for NFS), placed on a chosen guest, moved under Pacemaker with crm_resource --move, then
 * removed again (the move itself is drbd-container.ts's move: crm_resource --move, then --clear). The migration-types test and the guest benchmark use it; the host reads the counter, the
 * figures and CRIU's logs straight from the share.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestExec, guestName, mustGuest, SHARED_DIR, type GuestId } from './guests.js';
import { activeOn, ID, idle, IP, waitActiveOn } from './drbd-container.js';
import { waitFor, WORKLOAD_DIR } from '../lab/lab.js';
import type { MigrationSummary } from '../../src/migrate/summary.js';
import type { MigrationRecord } from '../../src/migrate/record.js';
import type { MigrationType } from '../../src/settings/params.js';

const IN_GUESTS = '/shared';
const FILES = 'web1';
const STATE = 'ferry';
export const stateDirOnHost = (): string => join(SHARED_DIR, STATE, ID);

export interface SharedContainerOptions {
  type: MigrationType;
  ballastMiB: number;
  dirtyMiBps: number;
  /** The dirtying goes round and round the first hotMiB of the ballast (default: all of it). */
  hotMiB?: number;
  /** Keep the checkpoint images (and CRIU's dump.log, pre-dump logs) after the migration, to read them. */
  keepImages?: boolean;
}

export function sharedContainerXml(o: SharedContainerOptions): string {
  const p = (name: string, value: string) => `    <nvpair id="${ID}-${name}" name="${name}" value="${value}"/>`;
  const op = (name: string, interval: string, timeout: string) => `    <op id="${ID}-${name}" name="${name}" interval="${interval}" timeout="${timeout}"/>`;
  return [
    `<primitive id="${ID}" class="ocf" provider="ferry" type="container">`,
    `  <instance_attributes id="${ID}-params">`,
    p('name', ID),
    p('command', `exec /usr/bin/python3 ${IN_GUESTS}/${FILES}/server.py ${IN_GUESTS}/${FILES}/counter 5000 ${o.ballastMiB} ${o.dirtyMiBps} ${o.hotMiB ?? 0}`),
    p('ip', `${IP}/24`), p('bridge', 'br0'),
    p('storage', 'shared'), p('state_dir', `${IN_GUESTS}/${STATE}`),
    p('migration_type', o.type), p('migration_type_strict', 'true'),
    p('keep_images', o.keepImages ? 'true' : 'false'),
    p('criu_binary', '/usr/sbin/criu'),
    // the guests run no ferry serve: the CPUs cannot be compared, and migrate_to refuses that unless forced (fail closed)
    p('cpu_check_force', 'true'),
    '  </instance_attributes>',
    `  <meta_attributes id="${ID}-meta">`,
    `    <nvpair id="${ID}-migrate" name="allow-migrate" value="true"/>`,
    `    <nvpair id="${ID}-target-role" name="target-role" value="Stopped"/>`,
    '  </meta_attributes>',
    '  <operations>',
    // emulated guests: a 256 MiB dump takes tens of seconds
    op('monitor', '10s', '60s'), op('start', '0s', '300s'), op('stop', '0s', '600s'),
    op('migrate_to', '0s', '600s'), op('migrate_from', '0s', '600s'),
    '  </operations>',
    '</primitive>',
  ].join('\n');
}

/** The workload's files and the state_dir on the share (once per lab boot). */
export function installWorkload(): void {
  mkdirSync(join(SHARED_DIR, STATE), { recursive: true });
  mkdirSync(join(SHARED_DIR, FILES), { recursive: true });
  copyFileSync(join(WORKLOAD_DIR, 'server.py'), join(SHARED_DIR, FILES, 'server.py'));
}

/**
 * Loads the resource and starts it on guest `home`, through the same location constraint crm_resource --move
 * makes (cli-prefer-web1), so that a later --move replaces it; resolves once Pacemaker runs it there.
 */
export async function placeContainer(o: SharedContainerOptions, home: GuestId): Promise<void> {
  rmSync(stateDirOnHost(), { recursive: true, force: true });
  rmSync(join(SHARED_DIR, FILES, 'counter'), { force: true });
  writeFileSync(join(SHARED_DIR, `${ID}.xml`), sharedContainerXml(o));
  await mustGuest(1, ['cibadmin', '--create', '--scope', 'resources', '--xml-file', `${IN_GUESTS}/${ID}.xml`], { timeoutMs: 60_000 });
  await mustGuest(1, ['cibadmin', '--create', '--scope', 'constraints', '--xml-text',
    `<rsc_location id="cli-prefer-${ID}" rsc="${ID}" role="Started" node="${guestName(home)}" score="INFINITY"/>`], { timeoutMs: 60_000 });
  await mustGuest(1, ['crm_resource', '--resource', ID, '--meta', '--set-parameter', 'target-role', '--parameter-value', 'Started'], { timeoutMs: 60_000 });
  await waitActiveOn(home, 300_000);
  await waitFor(() => counter(), { what: `${ID}'s counter file`, timeoutMs: 60_000, intervalMs: 500 });
}

/** Stops the resource and takes it out of the CIB (the images stay on the share until the next placeContainer). */
export async function removeContainer(): Promise<void> {
  await mustGuest(1, ['crm_resource', '--resource', ID, '--meta', '--set-parameter', 'target-role', '--parameter-value', 'Stopped'], { timeoutMs: 60_000 });
  await waitFor(async () => ((await activeOn()).length === 0 && (await idle()) ? true : undefined),
    { what: `${ID} stopped`, timeoutMs: 600_000, intervalMs: 2000 });
  await guestExec(1, ['crm_resource', '--resource', ID, '--clear'], { timeoutMs: 60_000 });
  await mustGuest(1, ['cibadmin', '--delete', '--xml-text', `<primitive id="${ID}"/>`], { timeoutMs: 60_000 });
  await guestExec(1, ['crm_resource', '--cleanup', '--resource', ID], { timeoutMs: 60_000 });
}

/** The workload's counter and instance token, read on the share; undefined before its first write. */
export function counter(): { value: number; instance: string } | undefined {
  const f = join(SHARED_DIR, FILES, 'counter');
  if (!existsSync(f)) return undefined;
  const [value, instance] = readFileSync(f, 'utf8').trim().split(' ');
  return value && instance ? { value: Number(value), instance } : undefined;
}

function readJsonFile<T>(f: string): T | undefined {
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * The figures of the migration with this record id once complete: for a lazy type only after the target's
 * monitor saw the last page arrive (it then adds allMemoryMs and lazyPagesFetched).
 */
export function waitSummary(timeoutMs = 120_000): Promise<MigrationSummary> {
  return waitFor(() => {
    const s = readJsonFile<MigrationSummary>(join(stateDirOnHost(), 'last-migration.json'));
    if (!s) return undefined;
    const lazy = s.type === 'lazy' || s.type === 'iterative+lazy';
    return !lazy || s.allMemoryMs !== undefined ? s : undefined;
  }, { what: `${ID}'s last-migration.json, complete`, timeoutMs, intervalMs: 1000 });
}

export function migrationRecord(): MigrationRecord | undefined {
  return readJsonFile<MigrationRecord>(join(stateDirOnHost(), 'migration.json'));
}

/** A CRIU log of the kept images of migration `id` (dump.log, pre-dump.log of pre-N, restore.log), or ''. */
export function criuLog(id: string, file: string, round?: string): string {
  const f = join(stateDirOnHost(), 'images', id, ...(round ? [round] : []), file);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

export function precopyRoundDirs(id: string): string[] {
  const dir = join(stateDirOnHost(), 'images', id);
  return existsSync(dir) ? readdirSync(dir).filter((d) => /^pre-\d+$/.test(d)).sort() : [];
}
