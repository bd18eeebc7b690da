/**
 * Faults in the middle of a DRBD hand-over, for real in the two stock-kernel guests under Pacemaker. Each must end
 * with the container running on exactly one guest, resumed from its checkpoint (same process, counter continued),
 * one Primary, and the data on the device intact:
 *   - the restore fails on the target after it has promoted and mounted the device: the target gives the device
 *     back, Pacemaker's recovery resumes the checkpoint on the source;
 *   - the target loses its DRBD link while the source is dumping: the source notices before demoting, keeps the
 *     device and the checkpoint, and Pacemaker's recovery resumes it there; the target never becomes Primary;
 *   - the target loses its DRBD link after the source has handed over (demoted): the target has every write, so it
 *     promotes alone and restores; DRBD resyncs the source when the link is back, without a split-brain.
 * A scenario of the guest stage (test/guests/guest-stage.guest.ts).
 */
import type { Test } from 'tap';
import { GUEST_IDS, guestExec, guestName, mustGuest, type GuestId } from '../guests.js';
import { waitFor } from '../../lab/lab.js';
import {
  activeOn, agentInGuest, counter, cutDrbdLink, dataSum, drbdCstate, drbdRole, FAULT_CRIU, ID, maintenance, other, settledOn, setFault, setUpDrbdContainer, waitActiveOn, waitResynced, workloadCopies,
} from '../drbd-container.js';

/** What every fault must end with: one copy, on `home`, resumed, with the device there and the data intact. */
async function assertOneCopyOn(t: Test, home: GuestId, before: { value: number; instance: string }, sum: string): Promise<void> {
  const where = await settledOn();
  await mustGuest(1, ['crm_resource', '--resource', ID, '--clear'], { timeoutMs: 60_000 });
  t.same(where, [guestName(home)], `active on ${guestName(home)} only`);
  t.same(await Promise.all(GUEST_IDS.map((n) => workloadCopies(n))), GUEST_IDS.map((n) => (n === home ? 1 : 0)), 'exactly one copy of the workload');
  const c = await counter(home);
  t.equal(c.instance, before.instance, 'the same process: resumed from its checkpoint, not restarted');
  t.ok(c.value > before.value, `counter continued (${before.value} -> ${c.value})`);
  t.match(await drbdRole(home), /^Primary\//, `${guestName(home)} is Primary`);
  t.match(await drbdRole(other(home)), /^Secondary\//, `${guestName(other(home))} is Secondary`);
  t.equal(await dataSum(home), sum, 'the data on the device is intact');
}

async function pacemakerLog(n: GuestId, pattern: string): Promise<string> {
  return (await guestExec(n, ['sh', '-c', `grep -h -- "${pattern}" /var/log/pacemaker/pacemaker.log | tail -n 5`])).stdout;
}

async function logLines(n: GuestId, pattern: string): Promise<number> {
  return Number((await guestExec(n, ['sh', '-c', `grep -c -- "${pattern}" /var/log/pacemaker/pacemaker.log`])).stdout.trim() || '0');
}

async function cleanup(): Promise<void> {
  await mustGuest(1, ['crm_resource', '--resource', ID, '--cleanup'], { timeoutMs: 60_000 });
  await settledOn();
}

export const title = 'DRBD hand-over faults in the guests: one copy, resumed, data intact';

export async function run(t: Test): Promise<void> {
  const { home, dataSum: sum, drbd } = await setUpDrbdContainer({ criuBinary: FAULT_CRIU });
  t.pass(drbd);
  const away = other(home);

  await t.test(`the restore fails on ${guestName(away)} after it promoted: back on ${guestName(home)}`, async (t) => {
    const before = await counter(home);
    await setFault(away, 'restore-fails', true);
    await mustGuest(1, ['crm_resource', '--resource', ID, '--move', '--node', guestName(away)], { timeoutMs: 60_000 });
    await assertOneCopyOn(t, home, before, sum);
    t.match(await pacemakerLog(away, 'took DRBD r0 over'), /promote \d+ ms, mount \d+ ms/, `${guestName(away)} had promoted and mounted before the restore`);
    t.match(await pacemakerLog(away, 'restoring web1 on'), /failed/, 'the failed restore is reported');
    await setFault(away, 'restore-fails', false);
    await cleanup();
  });

  await t.test(`${guestName(away)} loses its DRBD link while ${guestName(home)} dumps: kept on ${guestName(home)}`, async (t) => {
    const before = await counter(home);
    const takeOvers = await logLines(away, 'took DRBD r0 over');
    await setFault(home, 'dump-slow', true);
    await mustGuest(1, ['crm_resource', '--resource', ID, '--move', '--node', guestName(away)], { timeoutMs: 60_000 });
    // the wrapper holds the final dump for 30 s: the link goes during it, after migrate_to's own checks passed
    await waitFor(async () => (await guestExec(home, ['test', '-e', '/run/ferry-fault/dump-slow.reached'])).exitCode === 0,
      { what: 'the final dump held by the fault wrapper', timeoutMs: 300_000, intervalMs: 1000 });
    await cutDrbdLink(away, true);
    const lost = await waitFor(async () => { const c = await drbdCstate(home); return c !== 'Connected' ? c : undefined; },
      { what: `${guestName(home)} sees the DRBD link gone`, timeoutMs: 25_000, intervalMs: 500 });
    t.pass(`${guestName(home)}: DRBD ${lost} before its dump went on`);
    await assertOneCopyOn(t, home, before, sum);
    t.match(await pacemakerLog(home, 'handing DRBD r0 over'), /not connected.*checkpoint is kept/, 'the hand-over was refused, the checkpoint kept');
    t.equal(await logLines(away, 'took DRBD r0 over'), takeOvers, `${guestName(away)} never took the device over`);
    await setFault(home, 'dump-slow', false);
    await cutDrbdLink(away, false);
    const back = await waitResynced(home);
    t.pass(`link back: ${back}, no split-brain`);
    await cleanup();
  });

  // Pacemaker runs migrate_from a moment after migrate_to; the agent is run by hand here (the resource in
  // maintenance) so that the link can go exactly in between
  await t.test(`${guestName(away)} loses its DRBD link after ${guestName(home)} handed over: it promotes alone`, async (t) => {
    const before = await counter(home);
    await maintenance(true);
    const meta = { migrate_source: guestName(home), migrate_target: guestName(away) };
    const out = await agentInGuest(home, 'migrate_to', meta);
    t.equal(out.exitCode, 0, `migrate_to on ${guestName(home)}${out.exitCode ? `: ${out.stderr}` : ''}`);
    t.match(await drbdRole(home), /^Secondary\//, `${guestName(home)} demoted`);
    await cutDrbdLink(away, true);
    const lost = await waitFor(async () => { const c = await drbdCstate(away); return c !== 'Connected' ? c : undefined; },
      { what: `${guestName(away)} sees the DRBD link gone`, timeoutMs: 60_000, intervalMs: 500 });
    const into = await agentInGuest(away, 'migrate_from', meta);
    t.equal(into.exitCode, 0, `migrate_from on ${guestName(away)} with DRBD ${lost}${into.exitCode ? `: ${into.stderr}` : ''}`);
    t.match(into.stderr, /promoting DRBD r0 without its peer/, 'it says why it promoted alone');
    t.equal((await agentInGuest(home, 'stop')).exitCode, 0, `stop on ${guestName(home)}`);
    t.same(await Promise.all(GUEST_IDS.map((n) => workloadCopies(n))), GUEST_IDS.map((n) => (n === away ? 1 : 0)), `one copy, on ${guestName(away)}`);
    const c = await counter(away);
    t.equal(c.instance, before.instance, 'the same process');
    t.ok(c.value > before.value, `counter continued (${before.value} -> ${c.value})`);
    t.match(await drbdRole(away), /^Primary\//, `${guestName(away)} is Primary`);
    t.match(await drbdRole(home), /^Secondary\//, `${guestName(home)} stayed Secondary`);
    await cutDrbdLink(away, false);
    const back = await waitResynced(away);
    t.pass(`link back: ${back}, no split-brain`);
    t.equal(await dataSum(away), sum, 'the data on the device is intact');
    // Pacemaker learns where it runs by probing both guests, then manages it again without moving it; the cluster
    // can look idle for a moment before the probes' results are in, so wait for them rather than for idleness
    await mustGuest(1, ['crm_resource', '--resource', ID, '--cleanup'], { timeoutMs: 60_000 });
    await maintenance(false);
    await waitActiveOn(away, 180_000);
    t.same(await activeOn(), [guestName(away)], `Pacemaker finds it on ${guestName(away)} and leaves it there`);
    t.same(await Promise.all(GUEST_IDS.map((n) => workloadCopies(n))), GUEST_IDS.map((n) => (n === away ? 1 : 0)), 'still one copy');
  });
}
