/**
 * The hardware-alert hooks map each tool's event to a node health colour and call `ferry health`. Here a
 * recording `ferry` on PATH captures the call (the real `ferry health` is exercised under Pacemaker in
 * test/e2e/cli.test.ts); what is under test is the mapping each hook does.
 */
import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

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

t.test('smartd: failing health is red, growing sector counts yellow, the mail test nothing', async (t) => {
  t.equal((await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'FailedHealthCheck', SMARTD_DEVICE: '/dev/sda' })).call,
    'health|red|--reason|smartd: /dev/sda FailedHealthCheck|');
  t.equal((await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'CurrentPendingSector', SMARTD_DEVICE: '/dev/sdb' })).call,
    'health|yellow|--reason|smartd: /dev/sdb CurrentPendingSector|');
  const test = await callHook('smartd-ferry', { SMARTD_FAILTYPE: 'EmailTest' });
  t.equal(test.call, undefined, 'EmailTest does not touch node health');
  t.equal(test.code, 0);
});

t.test('mcelog: memory errors over threshold are red', async (t) => {
  t.equal((await callHook('mcelog-ferry', { MESSAGE: 'DIMM A1 corrected errors over threshold' })).call,
    'health|red|--reason|mcelog: DIMM A1 corrected errors over threshold|');
});

t.test('ipmi: critical red, non-critical yellow, ok green, anything else ignored', async (t) => {
  t.equal((await callHook('ipmi-ferry', {}, ['PSU1', 'Lower Critical going low'])).call, 'health|red|--reason|ipmi: PSU1 Lower Critical going low|');
  t.equal((await callHook('ipmi-ferry', {}, ['FAN3', 'Lower Non-critical going low'])).call, 'health|yellow|--reason|ipmi: FAN3 Lower Non-critical going low|',
    '"Non-critical" contains "critical": still yellow');
  t.equal((await callHook('ipmi-ferry', {}, ['FAN3', 'ok'])).call, 'health|green|--reason|ipmi: FAN3 ok|');
  t.equal((await callHook('ipmi-ferry', {}, ['FAN3', 'presence detected'])).call, undefined);
  t.not((await callHook('ipmi-ferry', {}, [])).code, 0, 'usage error without arguments');
});
