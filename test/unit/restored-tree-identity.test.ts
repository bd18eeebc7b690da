/**
 * #14 finding 8, the clock half: a tree left by an interrupted restore is recognised by when it was born against
 * when the restore began, both on the boot clock, so a wall clock stepped back after the restore began (NTP, an
 * admin) neither hides the real tree (probe 7 with the container running: two copies after the next start) nor
 * lets an older process with a reused pid pass.
 */
import t from 'tap';
import { bornAfter } from '../../src/runtime/native/native-driver.js';
import { bootTicksNow, identityOf } from '../../src/util/proc.js';

const me = identityOf(process.pid);
if (!me) throw new Error('cannot read this process\'s identity');
const now = bootTicksNow();
if (now === undefined) throw new Error('cannot read /proc/uptime');

t.test('the boot clock decides: born after the restore began (a second of slack), or not', async (t) => {
  t.ok(bornAfter(me.startTime, { since: new Date().toISOString(), bootTicks: me.startTime - 500 }), 'born 5 s after the restore began');
  t.ok(bornAfter(me.startTime, { since: new Date().toISOString(), bootTicks: me.startTime + 50 }), 'within the second of slack');
  t.notOk(bornAfter(me.startTime, { since: new Date().toISOString(), bootTicks: me.startTime + 500 }), 'born 5 s before: a reused pid, not ours');
});

t.test('a wall clock stepped back an hour after the restore began does not hide the restored tree', async (t) => {
  // the intent's wall time is an hour ahead of the clock now (the clock was stepped back by that much)
  const ahead = new Date(Date.now() + 3600_000).toISOString();
  t.ok(bornAfter(me.startTime, { since: ahead, bootTicks: me.startTime - 100 }), 'recognised by the boot clock');
  t.notOk(bornAfter(me.startTime, { since: ahead }), 'what the wall clock alone concluded (an intent written before bootTicks existed)');
});

t.test('the boot clock is the one /proc/PID/stat counts in: this process was born before now', async (t) => {
  t.ok(me.startTime <= now, `start ${me.startTime} ticks, now ${now} ticks since boot`);
});
