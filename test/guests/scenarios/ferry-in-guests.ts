/**
 * Ferry for real where this host's kernel cannot go: in the two QEMU guests (stock Debian 6.1 kernel, DRBD 8.4,
 * soft-dirty), under their Pacemaker cluster. A container on DRBD (contrib/cib/drbd-container.xml, as shipped but
 * for the command, address and CRIU) with a TCP client on the host side is moved guest1 <-> guest2 with
 * crm_resource --move, live and iterative (real CRIU pre-copy rounds), the DRBD device handed over each time.
 * The first move runs on guests without iptables (CRIU locks the container's connections with nftables), the
 * second with the iptables package installed, as on many admins' nodes (CRIU then uses iptables rules); it is
 * removed again afterwards. Then a move the DRBD state forbids (peer disconnected) is refused before anything is
 * frozen, and the data on the device survives intact. A scenario of the guest stage (test/guests/guest-stage.guest.ts).
 */
import type { Test } from 'tap';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_IDS, guestExec, guestName, mustGuest, SHARED_DIR } from '../guests.js';
import {
  activeOn, clientReplies, counter, dataSum, drbdRole, handoffOn, ID, move, other, settledOn, setUpDrbdContainer, shippedExample, startClient, summaryOn,
  waitClientReplies, workloadCopies,
} from '../drbd-container.js';

const CLIENT_STOP = join(SHARED_DIR, 'client.stop');

export const title = 'Ferry in the guests: live iterative migration on DRBD under Pacemaker';

/** The iptables packages test/guests/install-host.sh fetched (never installed on the host). */
const IPTABLES_DEBS = join(process.env.FERRY_GUESTS_CACHE ?? '/var/cache/ferry-guests', 'iptables-debs');
const PACKAGES_ADDED = '/run/ferry-test-iptables-added';

/** Installs iptables in both guests from the shared directory, noting which packages were not there before. */
async function installIptables(): Promise<void> {
  const debs = readdirSync(IPTABLES_DEBS).filter((f) => f.endsWith('.deb'));
  if (!debs.some((f) => f.startsWith('iptables_'))) throw new Error(`no iptables package in ${IPTABLES_DEBS}: run sh test/guests/install-host.sh`);
  rmSync(join(SHARED_DIR, 'iptables-debs'), { recursive: true, force: true });
  cpSync(IPTABLES_DEBS, join(SHARED_DIR, 'iptables-debs'), { recursive: true });
  const names = debs.map((f) => f.split('_')[0]).join(' ');
  for (const n of GUEST_IDS) {
    await mustGuest(n, ['sh', '-c', `for p in ${names}; do dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done > ${PACKAGES_ADDED}; `
      + 'dpkg -i /shared/iptables-debs/*.deb >/dev/null && command -v iptables-restore'], { timeoutMs: 300_000 });
  }
}

/** Removes what installIptables added: the guests are as the other scenarios expect them. */
async function removeIptables(): Promise<void> {
  for (const n of GUEST_IDS) {
    await mustGuest(n, ['sh', '-c', `if [ -s ${PACKAGES_ADDED} ]; then dpkg --purge $(cat ${PACKAGES_ADDED}) >/dev/null; fi; rm -f ${PACKAGES_ADDED}; ! command -v iptables-restore`], { timeoutMs: 300_000 });
  }
  rmSync(join(SHARED_DIR, 'iptables-debs'), { recursive: true, force: true });
}

export async function run(t: Test): Promise<void> {
  for (const n of GUEST_IDS) {
    // the agent's shell entry starts /usr/bin/node (NODE=) for every answer its fast monitor does not give itself
    const versions = await mustGuest(n, ['sh', '-c', "node --version; dpkg-query -W -f='${Version}\\n' nodejs; grep '^NODE=' \"$(readlink -f /usr/lib/ocf/resource.d/ferry/container)\""]);
    t.match(versions, /^v18\.\d+\.\d+\n18\.[^\n]*\nNODE=\/usr\/bin\/node\s/, `${guestName(n)}: the agent and the helper run on Debian's own nodejs 18 (${versions.split('\n').slice(0, 2).join(', ')})`);
    // installed from the .deb by apt (guests.sh install_project), the agent's path through the package's release
    const pkg = await mustGuest(n, ['sh', '-c', "dpkg-query -W -f='${Status} ${Version}\\n' ferry; readlink /usr/lib/ocf/resource.d/ferry/container; readlink /usr/lib/ferry/current"]);
    t.match(pkg, /^install ok installed \S+\n\/usr\/lib\/ferry\/current\/ocf\/ferry\/container\nreleases\/\S+\s*$/, `${guestName(n)}: ferry installed from its .deb (${pkg.split('\n')[0]})`);
  }
  const tester = await guestExec(1, ['ocf-tester', '-n', 'tester1', '-o', 'name=tester1', '-o', 'command=sleep 1000', '/usr/lib/ocf/resource.d/ferry/container'], { timeoutMs: 600_000 });
  t.equal(tester.exitCode, 0, 'guest1: ocf-tester exits 0 on the agent the .deb installed', { output: `${tester.stdout}\n${tester.stderr}` });
  t.match(tester.stdout, /passed all tests/, 'guest1: ocf-tester "passed all tests"');
  t.match(shippedExample(), /name="criu_binary" value="\/usr\/sbin\/criu"/, 'the example names the distribution\'s CRIU, which the guests have');
  const { home, dataSum: sum, drbd } = await setUpDrbdContainer();
  t.pass(drbd);
  t.pass(`started on ${guestName(home)}`);
  t.equal(await drbdRole(home), 'Primary/Secondary', `${guestName(home)} is Primary`);
  const before = await counter(home);

  // one session across both moves, however long emulation makes them: ended by the stop file, 1800 s at most
  rmSync(CLIENT_STOP, { force: true });
  const client = startClient(1800, { stopFile: CLIENT_STOP });
  await waitClientReplies(20);
  try {
    for (const [i, to] of [other(home), home].entries()) {
      const lock = i === 0 ? 'nftables' : 'iptables';
      if (lock === 'iptables') await installIptables();
      await t.test(`crm_resource --move to ${guestName(to)}: live, iterative, DRBD handed over, ${lock === 'iptables' ? 'iptables installed' : 'no iptables'}`, async (t) => {
        await move(to);
        t.equal((await summaryOn(to)).networkLock, lock, `CRIU locked the container's connections with ${lock}`);
        t.equal(await drbdRole(to), 'Primary/Secondary', `${guestName(to)} is Primary`);
        t.equal(await drbdRole(other(to)), 'Secondary/Primary', `${guestName(other(to))} is Secondary`);
        const s = await summaryOn(to);
        t.equal(s.type, 'iterative', 'migrated with real pre-copy');
        t.ok((s.precopyRounds?.length ?? 0) >= 1, `pre-copy rounds: ${s.precopyRounds?.join('/') ?? 'none'} pages (${s.precopyStop ?? ''})`);
        t.ok(s.storageMs?.promote !== undefined && s.storageMs.mount !== undefined, 'promote and mount timed on the target');
        const handoff = await handoffOn(other(to));
        t.comment(`downtime ${s.downtimeMs} ms: dump ${s.dumpMs} ms | sync ${handoff.sync} ms, umount ${handoff.umount} ms, demote ${handoff.demote} ms | `
          + `promote ${s.storageMs?.promote} ms, mount ${s.storageMs?.mount} ms | restore ${s.restoreMs} ms; pre-copy ${s.precopyRounds?.join('/')} pages`);
        const c = await counter(to);
        t.equal(c.instance, before.instance, 'the same process');
        t.same(await Promise.all(GUEST_IDS.map((n) => workloadCopies(n))), GUEST_IDS.map((n) => (n === to ? 1 : 0)), 'one copy of the workload, on the target');
        t.ok(c.value > before.value, `the counter went on (${before.value} -> ${c.value})`);
        t.equal(await dataSum(to), sum, 'the data on the device is intact');
        const failed = await mustGuest(1, ['crm_mon', '-1', '--output-as=xml']);
        t.notMatch(failed, /<failure /, 'crm_mon: no failed actions');
      });
    }
  } finally {
    await removeIptables();
  }
  t.pass('iptables removed from both guests again');
  await waitClientReplies(20, clientReplies());
  writeFileSync(CLIENT_STOP, '');
  const c = await client;
  t.ok(c.counter_monotonic, 'the counter seen over TCP never went back');
  // CRIU 3.17 brings its own network lock back with the container's nftables ruleset: Ferry removes it after the restore
  t.same(c.errors, [], `the TCP session survived both moves, nftables' lock and iptables'${c.errors.length ? `: ${c.errors.join('; ')}` : ''}`);
  t.comment(`client: ${c.replies} replies, longest pause ${c.max_gap_ms} ms`);

  await t.test('peer disconnected: the move is refused before freezing; one copy, data intact', async (t) => {
    const away = other(home);
    await mustGuest(away, ['drbdadm', 'disconnect', 'r0']);
    await mustGuest(1, ['crm_resource', '--resource', ID, '--move', '--node', guestName(away)], { timeoutMs: 60_000 });
    await settledOn();
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
}
