/**
 * Ferry for real where this host's kernel cannot go: in the two QEMU guests (stock Debian 6.1 kernel, DRBD 8.4,
 * soft-dirty), under their Pacemaker cluster. A container on DRBD (contrib/cib/drbd-container.xml, as shipped but
 * for the command, address and CRIU) with a TCP client on the host side is moved guest1 <-> guest2 with
 * crm_resource --move, live and iterative (real CRIU pre-copy rounds), the DRBD device handed over each time.
 * Then a move the DRBD state forbids (peer disconnected) is refused before anything is frozen, and the data on
 * the device survives intact. Named *.guest.ts: run by test/guests/run.sh, not by the main suite.
 */
import t from 'tap';
import { execa } from 'execa';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drbdUp, GUEST_IDS, GUESTS_SH, guestExec, guestName, guestsDown, guestsUp, mustGuest, SHARED_DIR, type GuestId } from './guests.js';
import { REPO, waitFor, WORKLOAD_DIR } from '../lab/lab.js';
import type { ClientSummary } from '../lab/scenario.js';

const ID = 'web1';
const IP = '10.81.0.50';
const MOUNT = '/srv/drbd';
const other = (n: GuestId): GuestId => (n === 1 ? 2 : 1);

interface Summary { type: string; downtimeMs: number; precopyRounds?: number[]; precopyStop?: string; storageMs?: Record<string, number>; dumpMs?: number; restoreMs?: number }

/** The guests where crm_mon says the resource is active, once the cluster is idle. */
async function activeOn(): Promise<string[] | undefined> {
  const xml = await mustGuest(1, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 60_000 });
  const block = new RegExp(`<resource id="${ID}"[^>]*>([\\s\\S]*?)</resource>`).exec(xml)?.[1] ?? '';
  return [...block.matchAll(/<node name="([^"]+)"/g)].map((m) => m[1] ?? '');
}

async function idle(): Promise<boolean> {
  const r = await guestExec(1, ['crm_resource', '--wait', '--timeout', '5s'], { timeoutMs: 30_000 });
  return r.exitCode === 0;
}

async function waitActiveOn(n: GuestId, timeoutMs = 600_000): Promise<void> {
  await waitFor(async () => {
    const where = await activeOn();
    return where?.length === 1 && where[0] === guestName(n) && (await idle()) ? true : undefined;
  }, { what: `${ID} active on ${guestName(n)} only, cluster idle`, timeoutMs, intervalMs: 2000 });
}

async function drbdRole(n: GuestId): Promise<string> {
  return (await mustGuest(n, ['drbdadm', 'role', 'r0'])).trim();
}

async function counter(n: GuestId): Promise<{ value: number; instance: string }> {
  const [value, instance] = (await mustGuest(n, ['cat', `${MOUNT}/web1/counter`])).trim().split(' ');
  return { value: Number(value), instance: instance ?? '' };
}

async function summaryOn(n: GuestId): Promise<Summary> {
  return JSON.parse(await mustGuest(n, ['cat', `${MOUNT}/ferry/${ID}/last-migration.json`])) as Summary;
}

function startClient(seconds: number): Promise<ClientSummary> {
  const summaryFile = join(SHARED_DIR, 'client.json');
  rmSync(summaryFile, { force: true });
  return execa('sh', [GUESTS_SH, 'exec', 'cl', '/usr/bin/python3', join(WORKLOAD_DIR, 'client.py'), IP, String(seconds), join(SHARED_DIR, 'client.jsonl'), summaryFile,
    // emulated guests freeze the container for 13-19 s, and TCP's retransmission back-off adds up to as much again
    '--reply-timeout', '120'],
    { reject: false, timeout: (seconds + 120) * 1000, env: { NODE_OPTIONS: '' } })
    .then(() => JSON.parse(readFileSync(summaryFile, 'utf8')) as ClientSummary);
}

async function move(to: GuestId): Promise<void> {
  await mustGuest(1, ['crm_resource', '--resource', ID, '--move', '--node', guestName(to)], { timeoutMs: 60_000 });
  try {
    await waitActiveOn(to);
  } finally {
    await mustGuest(1, ['crm_resource', '--resource', ID, '--clear'], { timeoutMs: 60_000 });
  }
}

/** sha256 of the test file on the DRBD filesystem, read on the Primary. */
async function dataSum(n: GuestId): Promise<string> {
  return (await mustGuest(n, ['sha256sum', `${MOUNT}/web1/data.bin`])).split(' ')[0] ?? '';
}

t.test('Ferry in the guests: live iterative migration on DRBD under Pacemaker', async (t) => {
  if (process.getuid?.() !== 0) { t.fail('the guest lab needs root'); return; }
  t.teardown(() => guestsDown());
  // room on the DRBD filesystem for the container's files and a checkpoint (Ferry refuses a migration without it)
  process.env.FERRY_GUESTS_DRBD_MB = '128';
  const up = await guestsUp();
  t.pass(`guests up with the cluster in ${up.ms} ms`);
  const drbd = await drbdUp();
  t.pass(drbd.output.trim());

  // the container's files on the DRBD filesystem, made once on guest1 and left Secondary for Ferry to promote
  copyFileSync(join(WORKLOAD_DIR, 'server.py'), join(SHARED_DIR, 'server.py'));
  for (const n of GUEST_IDS) await mustGuest(n, ['mkdir', '-p', MOUNT]);
  await mustGuest(1, ['sh', '-c', `drbdadm primary r0 && mount /dev/drbd0 ${MOUNT} && mkdir -p ${MOUNT}/web1 ${MOUNT}/ferry && cp /shared/server.py ${MOUNT}/web1/ `
    + `&& head -c 1048576 /dev/urandom > ${MOUNT}/web1/data.bin && umount ${MOUNT} && drbdadm secondary r0`], { timeoutMs: 120_000 });

  const example = readFileSync(join(REPO, 'contrib', 'cib', 'drbd-container.xml'), 'utf8')
    .replace(/name="command" value="[^"]*"/, `name="command" value="exec /usr/bin/python3 ${MOUNT}/web1/server.py ${MOUNT}/web1/counter 5000 16 2"`)
    .replace(/name="ip" value="[^"]*"/, `name="ip" value="${IP}/24"`);
  t.match(example, /name="criu_binary" value="\/usr\/sbin\/criu"/, 'the example names the distribution\'s CRIU, which the guests have');
  writeFileSync(join(SHARED_DIR, 'web1.xml'), example);
  await mustGuest(1, ['cibadmin', '--create', '--scope', 'resources', '--xml-file', '/shared/web1.xml'], { timeoutMs: 60_000 });
  const first = await waitFor(async () => {
    const where = await activeOn();
    return where?.length === 1 && (await idle()) ? where[0] : undefined;
  }, { what: `${ID} started`, timeoutMs: 600_000, intervalMs: 2000 });
  const home: GuestId = first === 'guest2' ? 2 : 1;
  t.pass(`started on ${first}`);
  t.equal(await drbdRole(home), 'Primary/Secondary', `${guestName(home)} is Primary`);
  const sum = await dataSum(home);
  const before = await counter(home);

  const client = startClient(150);
  await new Promise((r) => setTimeout(r, 5000));
  for (const to of [other(home), home]) {
    await t.test(`crm_resource --move to ${guestName(to)}: live, iterative, DRBD handed over`, async (t) => {
      await move(to);
      t.equal(await drbdRole(to), 'Primary/Secondary', `${guestName(to)} is Primary`);
      t.equal(await drbdRole(other(to)), 'Secondary/Primary', `${guestName(other(to))} is Secondary`);
      const s = await summaryOn(to);
      t.equal(s.type, 'iterative', 'migrated with real pre-copy');
      t.ok((s.precopyRounds?.length ?? 0) >= 1, `pre-copy rounds: ${s.precopyRounds?.join('/') ?? 'none'} pages (${s.precopyStop ?? ''})`);
      t.ok(s.storageMs?.promote !== undefined && s.storageMs.mount !== undefined, 'promote and mount timed on the target');
      const handoff = JSON.parse(await mustGuest(other(to), ['cat', `/run/ferry/drbd/${ID}.handoff.json`])) as Record<string, number>;
      t.comment(`downtime ${s.downtimeMs} ms: dump ${s.dumpMs} ms | sync ${handoff.sync} ms, umount ${handoff.umount} ms, demote ${handoff.demote} ms | `
        + `promote ${s.storageMs?.promote} ms, mount ${s.storageMs?.mount} ms | restore ${s.restoreMs} ms; pre-copy ${s.precopyRounds?.join('/')} pages`);
      const c = await counter(to);
      t.equal(c.instance, before.instance, 'the same process');
      t.ok(c.value > before.value, `the counter went on (${before.value} -> ${c.value})`);
      t.equal(await dataSum(to), sum, 'the data on the device is intact');
      const failed = await mustGuest(1, ['crm_mon', '-1', '--output-as=xml']);
      t.notMatch(failed, /<failure /, 'crm_mon: no failed actions');
    });
  }

  const c = await client;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  // known failure, kept visible rather than dropped: between the emulated guests the client's connection does not
  // come back after a 13-19 s freeze (it does in the namespace lab, and the process and its counter do move here)
  t.same(c.errors, [], `the TCP session survived both moves${c.errors.length ? `: ${c.errors.join('; ')}` : ''}`,
    { todo: 'TCP session across a DRBD move between the emulated guests (open in #6)' });
  t.comment(`client: ${c.replies} replies, longest pause ${c.max_gap_ms} ms`);

  await t.test('peer disconnected: the move is refused before freezing; one copy, data intact', async (t) => {
    const away = other(home);
    await mustGuest(away, ['drbdadm', 'disconnect', 'r0']);
    await mustGuest(1, ['crm_resource', '--resource', ID, '--move', '--node', guestName(away)], { timeoutMs: 60_000 });
    await waitFor(async () => {
      const where = await activeOn();
      return where?.length === 1 && (await idle()) ? where : undefined;
    }, { what: `${ID} settled after the refused move`, timeoutMs: 600_000, intervalMs: 2000 });
    await mustGuest(1, ['crm_resource', '--resource', ID, '--clear']);
    const where = await activeOn();
    t.same(where, [guestName(home)], `still (or again) on ${guestName(home)}, the only node with the device`);
    const log = (await guestExec(home, ['sh', '-c', 'grep -h "migration of web1\\|not migrating web1" /var/log/pacemaker/pacemaker.log | tail -n 3'])).stdout;
    t.match(log, /peer is not connected/, 'the reason: the peer is not connected');
    t.equal(await drbdRole(away), 'Secondary/Unknown', `${guestName(away)} never became Primary`);
    t.equal(await dataSum(home), sum, 'the data on the device is intact');
    await mustGuest(away, ['drbdadm', 'connect', 'r0']);
    await mustGuest(1, ['crm_resource', '--resource', ID, '--cleanup'], { timeoutMs: 60_000 });
  });
});
