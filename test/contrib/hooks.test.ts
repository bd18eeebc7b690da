/**
 * The hardware-alert hooks map each tool's event to a node health colour and call `ferry health`. Here a
 * recording `ferry` on PATH captures the calls (the real `ferry health` is exercised under Pacemaker in
 * test/e2e/cli.test.ts); what is under test is the mapping each hook does, and that the attributes the calls
 * name (Ferry's own healthAttribute) combine as Pacemaker sums them.
 */
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { colourScores, healthAttribute, nodeScore, INFINITY, type Colour } from '../../src/cli/health-decision.js';

const HOOKS = join(process.cwd(), 'contrib', 'hooks');

async function callHook(hook: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number; call: string | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hook-'));
  const record = join(dir, 'call');
  writeFileSync(join(dir, 'ferry'), `#!/bin/sh\nprintf '%s|' "$@" > "${record}"\n`);
  chmodSync(join(dir, 'ferry'), 0o755);
  const r = await execa(join(HOOKS, hook), args, { env: { ...env, PATH: `${dir}:/usr/bin:/bin` }, extendEnv: false, reject: false });
  const call = existsSync(record) ? readFileSync(record, 'utf8') : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { code: r.exitCode ?? -1, call };
}

/** A node's attributes after these `ferry health` calls, each writing the attribute its --source names. */
function attributesAfter(calls: (string | undefined)[]): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const call of calls) {
    const args = (call ?? '').split('|');
    const source = args.indexOf('--source');
    attrs[healthAttribute(source < 0 ? undefined : args[source + 1])] = args[1] as Colour;
  }
  return attrs;
}
const migrateOnRed = colourScores('migrate-on-red', {})!;

t.test('smartd: failing health is red, growing sector counts yellow, the mail test nothing', async (t) => {
  t.equal((await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'FailedHealthCheck', SMARTD_DEVICE: '/dev/sda' })).call,
    'health|red|--source|smartd-/dev/sda-FailedHealthCheck|--reason|smartd: /dev/sda FailedHealthCheck|');
  t.equal((await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'CurrentPendingSector', SMARTD_DEVICE: '/dev/sdb' })).call,
    'health|yellow|--source|smartd-/dev/sdb-CurrentPendingSector|--reason|smartd: /dev/sdb CurrentPendingSector|');
  const test = await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'EmailTest' });
  t.equal(test.call, undefined, 'EmailTest does not touch node health');
  t.equal(test.code, 0);
});

t.test('smartd: a later yellow for the same disk does not lower its red', async (t) => {
  const attrs = attributesAfter([
    (await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'FailedHealthCheck', SMARTD_DEVICE: '/dev/sda' })).call,
    (await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'CurrentPendingSector', SMARTD_DEVICE: '/dev/sda' })).call,
  ]);
  t.equal(nodeScore(attrs, migrateOnRed), -INFINITY, `still red: ${JSON.stringify(attrs)}`);
});

t.test('mcelog: memory errors over threshold are red, one attribute per DIMM', async (t) => {
  t.equal((await callHook('mcelog-ferry', { MESSAGE: 'DIMM A1 corrected errors over threshold' })).call,
    'health|red|--source|mcelog|--reason|mcelog: DIMM A1 corrected errors over threshold|');
  t.equal((await callHook('mcelog-ferry', { MESSAGE: 'over threshold', SOCKETID: '0', CHANNEL: '1', DIMM: '2' })).call,
    'health|red|--source|mcelog-socket0-ch1-dimm2|--reason|mcelog: over threshold|');
});

t.test('ipmi: critical red, non-critical yellow, ok green, anything else ignored', async (t) => {
  t.equal((await callHook('ipmi-ferry', {}, ['PSU1', 'Lower Critical going low'])).call, 'health|red|--source|ipmi-PSU1|--reason|ipmi: PSU1 Lower Critical going low|');
  t.equal((await callHook('ipmi-ferry', {}, ['FAN3', 'Lower Non-critical going low'])).call, 'health|yellow|--source|ipmi-FAN3|--reason|ipmi: FAN3 Lower Non-critical going low|',
    '"Non-critical" contains "critical": still yellow');
  t.equal((await callHook('ipmi-ferry', {}, ['FAN3', 'ok'])).call, 'health|green|--source|ipmi-FAN3|--reason|ipmi: FAN3 ok|');
  t.equal((await callHook('ipmi-ferry', {}, ['FAN3', 'presence detected'])).call, undefined);
  t.not((await callHook('ipmi-ferry', {}, [])).code, 0, 'usage error without arguments');
});

t.test('ipmi: a deasserted event is a recovery, one threshold level down, never a drain', async (t) => {
  const colour = async (state: string) => (await callHook('ipmi-ferry', {}, ['CPU1 Temp', state])).call?.split('|')[1];
  t.equal(await colour('Upper Critical going high Asserted'), 'red');
  t.equal(await colour('Upper Critical going high Deasserted'), 'yellow', 'below critical, maybe still above non-critical');
  t.equal(await colour('Upper Non-critical going high Deasserted'), 'green');
  t.equal(await colour('Upper Non-recoverable going high Deasserted'), 'red', 'back to critical, which still holds');
  t.equal(await colour('Power Supply AC lost Deasserted'), 'green', 'a discrete event cleared');
});

t.test('two sources at once: smartd\'s yellow and another sensor\'s ok leave mcelog\'s and the PSU\'s red', async (t) => {
  const attrs = attributesAfter([
    (await callHook('mcelog-ferry', { MESSAGE: 'DIMM B2 corrected errors over threshold' })).call,
    (await callHook('ipmi-ferry', {}, ['PSU1', 'Lower Critical going low Asserted'])).call,
    (await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'CurrentPendingSector', SMARTD_DEVICE: '/dev/sdb' })).call,
    (await callHook('ipmi-ferry', {}, ['FAN3', 'ok'])).call,
  ]);
  t.equal(Object.keys(attrs).length, 4, `four attributes: ${Object.keys(attrs).join(', ')}`);
  t.equal(attrs[healthAttribute('mcelog')], 'red', 'mcelog keeps its red');
  t.equal(attrs[healthAttribute('ipmi-PSU1')], 'red', 'FAN3 ok does not clear PSU1');
  t.equal(nodeScore(attrs, migrateOnRed), -INFINITY, 'the node stays drained under migrate-on-red');
});
