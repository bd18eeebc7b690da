/**
 * A container on DRBD in the guest lab, as contrib/cib/drbd-container.xml ships it (only the command, the address
 * and the CRIU path substituted), and what the guest tests and the DRBD benchmark ask about it: where Pacemaker
 * runs it, the DRBD roles, the workload's counter, the figures of the last migration.
 */
import { execa } from 'execa';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drbdUp, GUEST_IDS, GUESTS_SH, guestExec, guestName, mustGuest, SHARED_DIR, type GuestId } from './guests.js';
import { REPO, waitFor, WORKLOAD_DIR } from '../lab/lab.js';
import type { ClientSummary } from '../lab/scenario.js';

export const ID = 'web1';
export const IP = '10.81.0.50';
export const MOUNT = '/srv/drbd';
/** The CRIU fault wrapper (test/lab/criu-fault.sh) as the guests see it; it runs /usr/sbin/criu unless told. */
export const FAULT_CRIU = '/shared/criu-fault.sh';
export const other = (n: GuestId): GuestId => (n === 1 ? 2 : 1);

export interface Summary {
  type: string; downtimeMs: number; precopyRounds?: number[]; precopyStop?: string; storageMs?: Record<string, number>;
  dumpMs?: number; restoreMs?: number; handoverMs?: number; networkLock?: string;
}

/** The guests where crm_mon says the resource is active. */
export async function activeOn(): Promise<string[]> {
  const xml = await mustGuest(1, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 60_000 });
  const block = new RegExp(`<resource id="${ID}"[^>]*>([\\s\\S]*?)</resource>`).exec(xml)?.[1] ?? '';
  return [...block.matchAll(/<node name="([^"]+)"/g)].map((m) => m[1] ?? '');
}

export async function idle(): Promise<boolean> {
  const r = await guestExec(1, ['crm_resource', '--wait', '--timeout', '5s'], { timeoutMs: 30_000 });
  return r.exitCode === 0;
}

/** Once the cluster is idle: the one guest running the resource, or undefined if none or several. */
export async function settledOn(timeoutMs = 600_000): Promise<string[]> {
  return waitFor(async () => {
    const where = await activeOn();
    return (await idle()) ? where : undefined;
  }, { what: `${ID} settled, cluster idle`, timeoutMs, intervalMs: 2000 });
}

export async function waitActiveOn(n: GuestId, timeoutMs = 600_000): Promise<void> {
  await waitFor(async () => {
    const where = await activeOn();
    return where.length === 1 && where[0] === guestName(n) && (await idle()) ? true : undefined;
  }, { what: `${ID} active on ${guestName(n)} only, cluster idle`, timeoutMs, intervalMs: 2000 });
}

export async function drbdRole(n: GuestId): Promise<string> {
  return (await mustGuest(n, ['drbdadm', 'role', 'r0'])).trim();
}

export async function drbdCstate(n: GuestId): Promise<string> {
  return (await mustGuest(n, ['drbdadm', 'cstate', 'r0'])).trim();
}

export async function counter(n: GuestId): Promise<{ value: number; instance: string }> {
  const [value, instance] = (await mustGuest(n, ['cat', `${MOUNT}/web1/counter`])).trim().split(' ');
  return { value: Number(value), instance: instance ?? '' };
}

export async function summaryOn(n: GuestId): Promise<Summary> {
  return JSON.parse(await mustGuest(n, ['cat', `${MOUNT}/ferry/${ID}/last-migration.json`])) as Summary;
}

/** The source's side of the last hand-over (its record went with the device). */
export async function handoffOn(n: GuestId): Promise<Record<string, number>> {
  return JSON.parse(await mustGuest(n, ['cat', `/run/ferry/drbd/${ID}.handoff.json`])) as Record<string, number>;
}

/** sha256 of the test file on the DRBD filesystem, read on the Primary. */
export async function dataSum(n: GuestId): Promise<string> {
  return (await mustGuest(n, ['sha256sum', `${MOUNT}/web1/data.bin`])).split(' ')[0] ?? '';
}

/** Processes of the workload on guest N (its command line names its counter file: by default the one on the device). */
export async function workloadCopies(n: GuestId, counterFile = `${MOUNT}/web1/counter`): Promise<number> {
  const r = await guestExec(n, ['pgrep', '-f', `server.py ${counterFile}`]);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

/** Replies the guest lab's client (startClient) has logged so far. */
export function clientReplies(): number {
  try {
    return readFileSync(join(SHARED_DIR, 'client.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  } catch {
    return 0;
  }
}

/**
 * Waits until the client has logged `more` replies beyond `after`, instead of a fixed sleep (emulated guests are
 * as slow as this machine's CPU makes them). Gives up quietly after `timeoutMs`: the client's summary then says why.
 */
export async function waitClientReplies(more: number, after = 0, timeoutMs = 300_000): Promise<number> {
  return waitFor(() => (clientReplies() >= after + more ? clientReplies() : undefined),
    { what: `${more} more replies to the client`, timeoutMs, intervalMs: 500 }).catch(() => clientReplies());
}

/**
 * A TCP client on the host side of the lab, one connection for `seconds` (or until `stopFile` exists, a path on
 * the host), patient with emulated downtimes.
 */
export function startClient(seconds: number, opts: { stopFile?: string } = {}): Promise<ClientSummary> {
  const summaryFile = join(SHARED_DIR, 'client.json');
  rmSync(summaryFile, { force: true });
  rmSync(join(SHARED_DIR, 'client.jsonl'), { force: true });
  return execa('sh', [GUESTS_SH, 'exec', 'cl', '/usr/bin/python3', join(WORKLOAD_DIR, 'client.py'), IP, String(seconds), join(SHARED_DIR, 'client.jsonl'), summaryFile,
    // emulated guests freeze the container for 13-19 s, and TCP's retransmission back-off adds up to as much again
    '--reply-timeout', '120', ...(opts.stopFile ? ['--stop-file', opts.stopFile] : [])],
    { reject: false, timeout: (seconds + 120) * 1000, env: { NODE_OPTIONS: '' } })
    .then(() => JSON.parse(readFileSync(summaryFile, 'utf8')) as ClientSummary);
}

export async function move(to: GuestId): Promise<void> {
  await mustGuest(1, ['crm_resource', '--resource', ID, '--move', '--node', guestName(to)], { timeoutMs: 60_000 });
  try {
    await waitActiveOn(to);
  } finally {
    await mustGuest(1, ['crm_resource', '--resource', ID, '--clear'], { timeoutMs: 60_000 });
  }
}

export interface DrbdContainer { home: GuestId; dataSum: string; drbd: string }

/**
 * DRBD r0 up on both guests, the container's files (its server and 1 MiB of random data) on the device, the
 * resource loaded from the shipped example; resolves once Pacemaker has started it. `criuBinary` replaces the
 * example's CRIU (e.g. FAULT_CRIU for fault tests); `dirtyMiBps` and `ballastMiB` make the workload busier.
 */
export async function setUpDrbdContainer(opts: { criuBinary?: string; ballastMiB?: number; dirtyMiBps?: number } = {}): Promise<DrbdContainer> {
  const drbd = await drbdUp();
  copyFileSync(join(WORKLOAD_DIR, 'server.py'), join(SHARED_DIR, 'server.py'));
  copyFileSync(join(REPO, 'test', 'lab', 'criu-fault.sh'), join(SHARED_DIR, 'criu-fault.sh'));
  chmodSync(join(SHARED_DIR, 'criu-fault.sh'), 0o755);
  writeFileSync(join(SHARED_DIR, '.real-criu'), '/usr/sbin/criu\n');
  for (const n of GUEST_IDS) await mustGuest(n, ['mkdir', '-p', MOUNT]);
  await mustGuest(1, ['sh', '-c', `drbdadm primary r0 && mount /dev/drbd0 ${MOUNT} && mkdir -p ${MOUNT}/web1 ${MOUNT}/ferry && cp /shared/server.py ${MOUNT}/web1/ `
    + `&& head -c 1048576 /dev/urandom > ${MOUNT}/web1/data.bin && umount ${MOUNT} && drbdadm secondary r0`], { timeoutMs: 120_000 });

  const workload = `${MOUNT}/web1/server.py ${MOUNT}/web1/counter 5000 ${opts.ballastMiB ?? 16} ${opts.dirtyMiBps ?? 2}`;
  let example = shippedExample()
    .replace(/name="command" value="[^"]*"/, `name="command" value="exec /usr/bin/python3 ${workload}"`)
    .replace(/name="ip" value="[^"]*"/, `name="ip" value="${IP}/24"`);
  if (opts.criuBinary) example = example.replace(/name="criu_binary" value="[^"]*"/, `name="criu_binary" value="${opts.criuBinary}"`);
  // the guests run no ferry serve: the CPUs cannot be compared, and migrate_to refuses that unless forced (fail closed)
  example = example.replace('</instance_attributes>', '  <nvpair id="web1-cpu-force" name="cpu_check_force" value="true"/>\n  </instance_attributes>');
  writeFileSync(join(SHARED_DIR, 'web1.xml'), example);
  await mustGuest(1, ['cibadmin', '--create', '--scope', 'resources', '--xml-file', '/shared/web1.xml'], { timeoutMs: 60_000 });
  const where = await waitFor(async () => {
    const on = await activeOn();
    return on.length === 1 && (await idle()) ? on[0] : undefined;
  }, { what: `${ID} started`, timeoutMs: 600_000, intervalMs: 2000 });
  const home: GuestId = where === 'guest2' ? 2 : 1;
  return { home, dataSum: await dataSum(home), drbd: drbd.output.trim() };
}

export function shippedExample(): string {
  return readFileSync(join(REPO, 'contrib', 'cib', 'drbd-container.xml'), 'utf8');
}

/** Sets (or clears) a fault of the CRIU wrapper on guest N; see test/lab/criu-fault.sh. */
export async function setFault(n: GuestId, fault: 'restore-fails' | 'dump-slow', on: boolean): Promise<void> {
  await mustGuest(n, on ? ['sh', '-c', `mkdir -p /run/ferry-fault && rm -f /run/ferry-fault/${fault}.reached && : > /run/ferry-fault/${fault}`]
    : ['rm', '-f', `/run/ferry-fault/${fault}`, `/run/ferry-fault/${fault}.reached`]);
}

/**
 * Cuts (or restores) guest N's DRBD replication link, the way a failing NIC or switch port would: its packets to
 * and from the peer's DRBD port are dropped (corosync, on the same network, keeps talking).
 */
export async function cutDrbdLink(n: GuestId, cut: boolean): Promise<void> {
  if (!cut) {
    await guestExec(n, ['nft', 'delete', 'table', 'inet', 'ferry_test_cut']);
    return;
  }
  await mustGuest(n, ['nft', '-f', '-'], {
    input: 'table inet ferry_test_cut {\n'
      + '  chain in { type filter hook input priority -10; tcp dport 7789 drop; tcp sport 7789 drop; }\n'
      + '  chain out { type filter hook output priority -10; tcp dport 7789 drop; tcp sport 7789 drop; }\n}\n',
  });
}

/** The resource's parameters as loaded (SHARED_DIR/web1.xml), as the OCF_RESKEY_* environment of an agent run. */
export function resourceEnvironment(): Record<string, string> {
  const xml = readFileSync(join(SHARED_DIR, 'web1.xml'), 'utf8');
  const params = xml.slice(xml.indexOf('<instance_attributes'), xml.indexOf('</instance_attributes>'));
  const decode = (v: string) => v.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return Object.fromEntries([...params.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [`OCF_RESKEY_${m[1]}`, decode(m[2] ?? '')]));
}

/**
 * Runs the agent in guest N as Pacemaker would (its parameters, OCF_ROOT, the node, a timeout), for steps a test
 * must hold apart that Pacemaker would run back to back; the resource is in maintenance meanwhile.
 */
export async function agentInGuest(n: GuestId, action: string, meta: Record<string, string> = {}): Promise<{ exitCode: number; stderr: string }> {
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: ID,
    OCF_RESKEY_CRM_meta_on_node: guestName(n), OCF_RESKEY_CRM_meta_timeout: '300000',
    ...resourceEnvironment(), ...Object.fromEntries(Object.entries(meta).map(([k, v]) => [`OCF_RESKEY_CRM_meta_${k}`, v])),
  };
  const r = await guestExec(n, ['/usr/lib/ocf/resource.d/ferry/container', action], { env, timeoutMs: 320_000 });
  return { exitCode: r.exitCode, stderr: r.stderr };
}

/** Resource-level maintenance: Pacemaker neither acts on nor monitors the resource. */
export async function maintenance(on: boolean): Promise<void> {
  await mustGuest(1, ['crm_resource', '--resource', ID, '--meta', '--set-parameter', 'maintenance', '--parameter-value', on ? 'true' : 'false'], { timeoutMs: 60_000 });
}

/** Once the link is back: waits until guest N is Connected with both disks UpToDate (the resync done); returns the disk states. */
export async function waitResynced(n: GuestId): Promise<string> {
  return waitFor(async () => {
    const r = await guestExec(n, ['drbdadm', 'dstate', 'r0']);
    return (await drbdCstate(n)) === 'Connected' && r.stdout.trim() === 'UpToDate/UpToDate' ? r.stdout.trim() : undefined;
  }, { what: 'DRBD reconnected and resynced', timeoutMs: 120_000, intervalMs: 1000 });
}
