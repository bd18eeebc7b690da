/**
 * A CIB written with a parameter's former name keeps working: the agent takes it as the new parameter and says, in
 * the log, what to rename (not on every monitor); both names with different values is a configuration error (6).
 */
import t from 'tap';
import { Scratch, agent, ensureBuilt, shown } from './fixtures/agent.js';

const scratch = new Scratch('renamed');
const runDir = scratch.runDir;
t.before(async () => { t.comment(await ensureBuilt()); });
t.teardown(() => scratch.cleanup());

const params = (extra: Record<string, string>) => ({ name: scratch.name(), command: scratch.command(), ...extra });

t.test('downtime_target_ms: accepted as migration_downtime, with a warning naming the new name', async (t) => {
  const r = await agent('validate-all', { runDir, params: params({ downtime_target_ms: '120' }) });
  t.equal(r.code, 0, 'validate-all: 0', shown(r));
  t.match(r.stderr, /WARNING: parameter downtime_target_ms is deprecated: it is now called migration_downtime; rename it in the CIB/);
  const probe = await agent('monitor', { runDir, params: params({ downtime_target_ms: '120' }), env: { OCF_RESKEY_CRM_meta_interval: '10000' } });
  t.equal(probe.code, 7, 'monitor of a container that is not running: 7', shown(probe));
  t.notMatch(probe.stderr, /deprecated/, 'no warning on monitor');
  const now = await agent('validate-all', { runDir, params: params({ migration_downtime: '120' }) });
  t.equal(now.code, 0);
  t.notMatch(now.stderr, /deprecated/, 'the new name: no warning');
});

t.test('both names, different values: 6, naming both', async (t) => {
  const r = await agent('validate-all', { runDir, params: params({ downtime_target_ms: '120', migration_downtime: '300' }) });
  t.equal(r.code, 6, 'OCF_ERR_CONFIGURED', shown(r));
  t.match(r.reasons.join('\n'), /parameter downtime_target_ms: is the deprecated name of migration_downtime, which is set too, to another value/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
