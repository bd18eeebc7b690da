/**
 * The guest stage of the suite: the two QEMU guests (stock Debian kernel: soft-dirty, userfaultfd, DRBD) boot once,
 * with Ferry installed from its .deb and the cluster online, and every scenario runs on them in turn, the cluster
 * reset between two (test/guests/guests.ts resetCluster). Under emulation a boot with the install and the cluster
 * costs minutes, which one boot per scenario paid five times. Ends with the lab torn down and nothing of it left.
 *
 * FERRY_GUEST_SCENARIOS=name,name runs only those (names as in SCENARIOS), e.g. while working on one:
 *   FERRY_GUEST_SCENARIOS=drbd-faults sh test/guests/run.sh
 * Fails (never skips) when it cannot run: without root, without the image, if a guest does not boot.
 */
import t from 'tap';
import { consoleLog, GUEST_IDS, guestName, guestsDown, guestsUp, resetCluster } from './guests.js';
import * as lab from './scenarios/guest-lab.js';
import * as ferryInGuests from './scenarios/ferry-in-guests.js';
import * as drbdFaults from './scenarios/drbd-faults.js';
import * as migrationTypes from './scenarios/migration-types.js';
import * as debUpgrade from './scenarios/deb-upgrade.js';

// the lab's own checks first; the package upgrade last, as it leaves the guests on another release
const SCENARIOS = { lab, 'ferry-in-guests': ferryInGuests, 'drbd-faults': drbdFaults, 'migration-types': migrationTypes, 'deb-upgrade': debUpgrade };
type Name = keyof typeof SCENARIOS;

function chosen(): Name[] {
  const all = Object.keys(SCENARIOS) as Name[];
  const asked = process.env.FERRY_GUEST_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!asked?.length) return all;
  const unknown = asked.filter((a) => !(a in SCENARIOS));
  if (unknown.length) throw new Error(`FERRY_GUEST_SCENARIOS: no scenario ${unknown.join(', ')} (there are: ${all.join(', ')})`);
  return asked as Name[];
}

t.test('the guest stage: one boot of the guest lab, every guest scenario on it', async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('the guest lab needs root (QEMU with taps in a network namespace, debootstrap)');
    return;
  }
  const names = chosen();
  t.teardown(() => guestsDown());
  // room on the DRBD filesystem for the container's files and a checkpoint (Ferry refuses a migration without it)
  process.env.FERRY_GUESTS_DRBD_MB = '128';
  try {
    const up = await guestsUp();
    t.pass(`guests up, Ferry installed, cluster online in ${up.ms} ms`);
    t.comment(up.output.trim());
  } catch (e) {
    for (const n of GUEST_IDS) t.comment(`console of ${guestName(n)}:\n${consoleLog(n, 30)}`);
    throw e;
  }

  for (const [i, name] of names.entries()) {
    if (i > 0) {
      const started = performance.now();
      await resetCluster();
      t.comment(`cluster reset for ${name} in ${Math.round(performance.now() - started)} ms`);
    }
    const scenario = SCENARIOS[name];
    const began = performance.now();
    await t.test(scenario.title, (t) => scenario.run(t));
    t.comment(`${name}: ${Math.round((performance.now() - began) / 1000)} s`);
  }

  await t.test('down leaves no QEMU, no mux, no namespace, no directory', async (t) => {
    await guestsDown();
    await lab.checkNothingLeft(t);
  });
});
