/**
 * The metadata as an admin used to VirtualDomain reads it: every number says its unit, names VirtualDomain uses for
 * the same thing are Ferry's too (the old names still work, with a warning, listed as deprecated), and every
 * advised action timeout says why it differs from VirtualDomain's.
 */
import t from 'tap';
import { parseStringPromise } from 'xml2js';
import { PARAMS, RENAMED, type ParamName } from '../../src/settings/params.js';
import { parseSettings, parseSettingsForStop, resolveRenamed } from '../../src/settings/config.js';
import { buildMetadata } from '../../src/ocf/metadata.js';
import { buildManPage } from '../../src/ocf/manpage.js';
import { ACTIONS } from '../../src/ocf/actions.js';

const BASE = { name: 'c1', command: 'sleep 1' };

t.test('every integer parameter has a unit, and its longdesc in the metadata says it', async (t) => {
  const xml = (await parseStringPromise(buildMetadata())) as { 'resource-agent': { parameters: { parameter: { $: { name: string }; longdesc: { _: string }[] }[] }[] } };
  const longdesc = new Map(xml['resource-agent'].parameters[0]?.parameter.map((p) => [p.$.name, p.longdesc[0]?._ ?? '']));
  const integers = Object.entries(PARAMS).filter(([, p]) => p.type === 'integer');
  t.ok(integers.length >= 7, `${integers.length} integer parameters`);
  for (const [name, p] of integers) {
    t.ok(p.unit, `${name} has a unit (${p.unit})`);
    t.match(longdesc.get(name), `Unit: ${p.unit}.`, `${name}'s longdesc says it`);
  }
  t.equal(PARAMS.stop_timeout.unit, 'seconds');
  t.equal(PARAMS.checkpoint_max_age.unit, 'seconds');
  t.equal(PARAMS.migration_downtime.unit, 'milliseconds');
});

t.test('VirtualDomain\'s migration_downtime is the parameter; downtime_target_ms still works, deprecated', async (t) => {
  t.same(RENAMED, { downtime_target_ms: 'migration_downtime' });
  for (const now of Object.values(RENAMED)) t.ok(now in PARAMS, `${now} is a parameter`);
  const old = parseSettings({ ...BASE, downtime_target_ms: '120' });
  t.equal(old.config?.migration_downtime, 120, 'the old name sets the new parameter');
  t.match(old.deprecations, [/parameter downtime_target_ms is deprecated: it is now called migration_downtime; rename it in the CIB/]);
  const now = parseSettings({ ...BASE, migration_downtime: '120' });
  t.equal(now.config?.migration_downtime, 120);
  t.same(now.deprecations, [], 'the new name: no warning');
  t.equal(parseSettings({ ...BASE, downtime_target_ms: '120', migration_downtime: '120' }).config?.migration_downtime, 120, 'both, the same value: fine');
  const both = parseSettings({ ...BASE, downtime_target_ms: '120', migration_downtime: '300' });
  t.equal(both.config, undefined, 'both, different values: refused');
  t.match(both.errors[0]?.message, /parameter downtime_target_ms: is the deprecated name of migration_downtime, which is set too, to another value/);
  const bad = parseSettings({ ...BASE, downtime_target_ms: 'soon' }).errors[0];
  t.equal(bad?.param, 'downtime_target_ms', 'a bad value is reported under the name it was given');
  t.equal(bad?.message, 'parameter downtime_target_ms: "soon" is not a whole number (downtime_target_ms is the deprecated name of migration_downtime)', 'checked as the new one');
  t.notMatch(old.deprecations[0], /120/, 'the warning does not repeat the value (it need not be safe in a shell)');
  t.equal(parseSettingsForStop({ ...BASE, downtime_target_ms: '99' })?.migration_downtime, 99, 'stop reads it too');
  t.same(resolveRenamed({ a: '1' }), { raw: { a: '1' }, errors: [], deprecations: [], givenAs: new Map() });
});

t.test('the deprecated name is in the metadata (so crm and pcs accept it) and the man page, pointing at the new one', async (t) => {
  const xml = buildMetadata();
  t.match(xml, /<parameter name="downtime_target_ms" required="0" unique="0">\s*<longdesc lang="en">Deprecated name of migration_downtime, still accepted/);
  t.match(xml, /<shortdesc lang="en">Deprecated: use migration_downtime<\/shortdesc>/);
  t.notMatch(/<parameter name="downtime_target_ms"[^]*?<\/parameter>/.exec(xml)?.[0] ?? 'missing default=', /default=/, 'no default of its own');
  t.match(buildManPage(), /\\fBdowntime_target_ms\\fR\n\.RS 4\nDeprecated name of migration_downtime/);
});

t.test('every advised timeout is compared with VirtualDomain\'s and says why', async (t) => {
  // resource-agents' heartbeat/VirtualDomain advises: start 90s, stop 90s, monitor 30s/10s, migrate_to 120s, migrate_from 60s, validate-all 5s, meta-data 5s
  const vd: Record<string, number> = { start: 90, stop: 90, monitor: 30, migrate_to: 120, migrate_from: 60, 'validate-all': 5, 'meta-data': 5 };
  for (const a of ACTIONS) {
    t.equal(a.virtualDomainS, vd[a.name], `${a.name}: VirtualDomain's ${vd[a.name]}s`);
    t.ok(a.timeoutWhy.length > 10, `${a.name}: ${a.timeoutWhy.slice(0, 60)}...`);
    if (a.timeoutS !== a.virtualDomainS) t.match(a.timeoutWhy, /VirtualDomain/, `${a.name} differs (${a.timeoutS}s), and says why against VirtualDomain`);
  }
  t.match(buildManPage().replace(/\\-/g, '-'), /Suggested minimum timeout: 300s \(VirtualDomain: 120s\)\. More than VirtualDomain's 120s/);
});

t.test('every parameter name in RENAMED is not also a current parameter', async (t) => {
  for (const old of Object.keys(RENAMED)) t.notOk(old in PARAMS, `${old} is only an alias`);
  t.ok(Object.keys(PARAMS).every((n) => typeof PARAMS[n as ParamName].parse === 'function'));
});
