/**
 * What Pacemaker tells the agent besides parameters: the timeout and interval in milliseconds, whether a
 * monitor is a probe, the nodes of a migration, the check level, and allow-migrate.
 */
import t from 'tap';
import { isProbe, readEnvironment } from '../../src/ocf/environment.js';

t.test('a recurring monitor as Pacemaker runs it', async (t) => {
  const e = readEnvironment({
    OCF_RESOURCE_INSTANCE: 'web1', OCF_RESKEY_CRM_meta_timeout: '20000', OCF_RESKEY_CRM_meta_interval: '10000',
    OCF_RESKEY_CRM_meta_on_node: 'node1',
  });
  t.equal(e.resourceInstance, 'web1');
  t.equal(e.timeoutMs, 20_000, 'CRM_meta_timeout is already in milliseconds');
  t.equal(e.intervalMs, 10_000);
  t.equal(e.onNode, 'node1');
  t.equal(isProbe('monitor', e), false, 'a recurring monitor is a health check');
});

t.test('a probe is a monitor with interval 0 or none', async (t) => {
  t.equal(isProbe('monitor', readEnvironment({ OCF_RESKEY_CRM_meta_interval: '0' })), true);
  t.equal(isProbe('monitor', readEnvironment({})), true, 'crm_resource --force-check and ocf-tester set no interval');
  for (const action of ['start', 'stop', 'migrate_to', 'validate-all']) {
    t.equal(isProbe(action, readEnvironment({ OCF_RESKEY_CRM_meta_interval: '0' })), false, `${action} is never a probe`);
  }
});

t.test('timeouts that are not whole milliseconds are ignored (the advised timeout applies)', async (t) => {
  for (const raw of ['20s', '-1', '1.5', '', ' 20000', 'abc']) {
    t.equal(readEnvironment({ OCF_RESKEY_CRM_meta_timeout: raw }).timeoutMs, undefined, JSON.stringify(raw));
  }
  t.equal(readEnvironment({}).timeoutMs, undefined);
  t.equal(readEnvironment({ OCF_RESKEY_CRM_meta_interval: '10s' }).intervalMs, 0, 'an unreadable interval counts as none');
});

t.test('a migration names its source and target', async (t) => {
  const e = readEnvironment({ OCF_RESKEY_CRM_meta_migrate_source: 'node1', OCF_RESKEY_CRM_meta_migrate_target: 'node2' });
  t.equal(e.migrateSource, 'node1');
  t.equal(e.migrateTarget, 'node2');
  const empty = readEnvironment({ OCF_RESKEY_CRM_meta_migrate_target: '', OCF_RESOURCE_INSTANCE: '', OCF_RESKEY_CRM_meta_on_node: '' });
  t.equal(empty.migrateTarget, undefined, 'empty is unset');
  t.equal(empty.resourceInstance, undefined);
  t.equal(empty.onNode, undefined);
});

t.test('OCF_CHECK_LEVEL, 0 when unset', async (t) => {
  t.equal(readEnvironment({ OCF_CHECK_LEVEL: '10' }).checkLevel, 10);
  t.equal(readEnvironment({}).checkLevel, 0);
  t.equal(readEnvironment({ OCF_CHECK_LEVEL: 'deep' }).checkLevel, 0);
});

t.test('allow-migrate in the spellings Pacemaker takes for true', async (t) => {
  for (const raw of ['true', 'TRUE', 'True', 'yes', 'YES', 'on', '1']) {
    t.equal(readEnvironment({ OCF_RESKEY_CRM_meta_allow_migrate: raw }).allowMigrate, true, raw);
  }
  for (const raw of ['false', 'no', 'off', '0', '', 'maybe']) {
    t.equal(readEnvironment({ OCF_RESKEY_CRM_meta_allow_migrate: raw }).allowMigrate, false, JSON.stringify(raw));
  }
  t.equal(readEnvironment({}).allowMigrate, false, 'unset');
  for (const raw of ['y', 'Y']) t.equal(readEnvironment({ OCF_RESKEY_CRM_meta_allow_migrate: raw }).allowMigrate, true, raw);
});
