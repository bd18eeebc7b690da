/**
 * The guest lab works: two QEMU guests on Debian bookworm's stock 6.1 kernel give Ferry what this host's kernel
 * lacks (soft-dirty memory tracking for CRIU pre-copy, drbd.ko), as a two-node Pacemaker cluster with Ferry
 * installed. A scenario of the guest stage (test/guests/guest-stage.guest.ts), which boots the guests once for
 * all of them; it runs first, so that a lab that does not work says so before any Ferry scenario fails.
 */
import type { Test } from 'tap';
import { existsSync } from 'node:fs';
import {
  drbdUp, GUEST_IDS, GUESTS_DIR, guestExec, guestName, labProcesses,
  migrationAddress, mustGuest, onlineNodes, type GuestId,
} from '../guests.js';
import { waitFor } from '../../lab/lab.js';

const both = <T>(fn: (n: GuestId) => Promise<T>): Promise<T[]> => Promise.all(GUEST_IDS.map(fn));

export const title = 'guest lab: stock kernel, soft-dirty, DRBD, Pacemaker, Ferry';

export async function run(t: Test): Promise<void> {
  await t.test('each guest runs the stock Debian 6.1 kernel with the lab settings', async (t) => {
    for (const n of GUEST_IDS) {
      t.match(await mustGuest(n, ['uname', '-r']), /^6\.1\.0-\d+-amd64\n$/, `${guestName(n)}: stock bookworm kernel`);
      t.equal((await mustGuest(n, ['hostname'])).trim(), guestName(n), `${guestName(n)}: hostname`);
      t.equal((await mustGuest(n, ['cat', '/proc/sys/fs/pipe-max-size'])).trim(), '4194304', `${guestName(n)}: fs.pipe-max-size`);
      const peer: GuestId = n === 1 ? 2 : 1;
      t.match(await mustGuest(n, ['getent', 'hosts', `${guestName(peer)}.mn`]), new RegExp(`^${migrationAddress(peer).replace(/\./g, '\\.')}\\s`),
        `${guestName(n)}: ${guestName(peer)}.mn resolves to the migration network`);
      const ping = await guestExec(n, ['ping', '-c', '1', '-W', '5', '-I', 'mn0', `${guestName(peer)}.mn`], { timeoutMs: 30_000 });
      t.equal(ping.exitCode, 0, `${guestName(n)}: ${guestName(peer)}.mn answers over mn0`);
    }
  });

  await t.test('CRIU: soft-dirty tracking works (a real pre-dump --track-mem)', async (t) => {
    await both(async (n) => {
      const check = await guestExec(n, ['criu', 'check', '--feature', 'mem_dirty_track'], { timeoutMs: 60_000 });
      t.equal(check.exitCode, 0, `${guestName(n)}: criu check --feature mem_dirty_track passes`);
      t.match(check.stdout, /mem_dirty_track is supported/);
    });
    const script = 'setsid sleep 600 </dev/null >/dev/null 2>&1 & pid=$!; rm -rf /tmp/pd; mkdir -p /tmp/pd; '
      + 'criu pre-dump -t "$pid" -D /tmp/pd --track-mem -o pre-dump.log; rc=$?; kill -9 "$pid"; '
      + '[ $rc = 0 ] || tail -n 5 /tmp/pd/pre-dump.log >&2; exit $rc';
    const pre = await guestExec(1, ['sh', '-c', script], { timeoutMs: 120_000 });
    t.equal(pre.exitCode, 0, `criu pre-dump --track-mem in guest1${pre.stderr ? `: ${pre.stderr.trim()}` : ''}`);
  });

  await t.test('Pacemaker: both nodes online, ocf:ferry:container and ferry installed', async (t) => {
    for (const n of GUEST_IDS) {
      t.same((await onlineNodes(n)).sort(), ['guest1', 'guest2'], `${guestName(n)} sees both nodes online`);
      const meta = await guestExec(n, ['crm_resource', '--show-metadata', 'ocf:ferry:container'], { timeoutMs: 60_000 });
      t.equal(meta.exitCode, 0, `${guestName(n)}: crm_resource --show-metadata ocf:ferry:container`);
      t.match(meta.stdout, /<resource-agent\s[^>]*name="container"/);
      t.equal((await guestExec(n, ['ferry', '--help'], { timeoutMs: 60_000 })).exitCode, 0, `${guestName(n)}: ferry runs`);
    }
  });

  await t.test('DRBD: drbd.ko loads, r0 reaches Connected UpToDate/UpToDate', async (t) => {
    await both(async (n) => {
      t.equal((await guestExec(n, ['modprobe', 'drbd'])).exitCode, 0, `${guestName(n)}: modprobe drbd`);
      t.match(await mustGuest(n, ['cat', '/proc/drbd']), /^version: 8\.4\./, `${guestName(n)}: DRBD 8.4 module`);
    });
    const drbd = await drbdUp();
    t.pass(drbd.output.trim());
    await both(async (n) => {
      const line = await waitFor(async () => /^\s*0: (cs:Connected .*ds:UpToDate\/UpToDate.*)$/m.exec(await mustGuest(n, ['cat', '/proc/drbd']))?.[1],
        { timeoutMs: 60_000, intervalMs: 1000, what: `r0 Connected UpToDate/UpToDate on ${guestName(n)}` });
      t.pass(`${guestName(n)}: ${line}`);
      t.equal((await mustGuest(n, ['drbdadm', 'role', 'r0'])).trim(), 'Secondary/Secondary', `${guestName(n)}: both Secondary`);
    });
  });
}

/** Run last, after the stage's own guestsDown. */
export async function checkNothingLeft(t: Test): Promise<void> {
  t.same(labProcesses(), [], 'no process of the lab left');
  t.equal(existsSync('/run/netns/fgl-net'), false, 'netns fgl-net removed');
  t.equal(existsSync(GUESTS_DIR), false, `${GUESTS_DIR} removed`);
}
