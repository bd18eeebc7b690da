/** Reading ocf:ferry:container resources from the CIB, as `ferry migrate/evacuate/check` do. */
import t from 'tap';
import { parseContainerResources, parseResourceDefaults } from '../../src/cli/pacemaker.js';
import { multipleActiveFinding } from '../../src/cli/check.js';

// shaped like `cibadmin --query --scope resources` after `crm_resource --set-parameter` added a second set
const CIB = `<resources>
  <primitive id="web1" class="ocf" provider="ferry" type="container">
    <instance_attributes id="web1-params">
      <nvpair id="a" name="name" value="web1"/>
      <nvpair id="b" name="command" value="python3 -c &quot;print(1)&quot; &amp;&amp; x"/>
      <nvpair id="c" name="state_dir" value="/srv/ferry"/>
    </instance_attributes>
    <instance_attributes id="web1-instance_attributes">
      <nvpair id="d" name="require_migration_network" value="true"/>
    </instance_attributes>
    <meta_attributes id="web1-meta"><nvpair id="e" name="multiple-active" value="stop_unexpected"/></meta_attributes>
  </primitive>
  <primitive id="d1" class="ocf" provider="heartbeat" type="Dummy"/>
  <group id="g1"><primitive id="db1" class="ocf" provider="ferry" type="container"/></group>
</resources>`;

t.test('ferry containers only, every parameter set merged, XML entities decoded', async (t) => {
  const found = await parseContainerResources(CIB);
  t.same(found.map((r) => r.id), ['web1', 'db1'], 'Dummy left out; a container inside a group found');
  const web1 = found[0];
  t.equal(web1?.stateDir, '/srv/ferry');
  t.equal(web1?.params.require_migration_network, 'true', 'the second instance_attributes set counts');
  t.equal(web1?.params.command, 'python3 -c "print(1)" && x', 'entities decoded');
  t.equal(found[1]?.name, 'db1', 'name defaults to the resource id');
});

t.test('multiple-active: the resource\'s own, else rsc_defaults\', else Pacemaker\'s stop_start; only stop_unexpected keeps a restored copy', async (t) => {
  const [web1, db1] = await parseContainerResources(CIB);
  t.same(web1?.meta, { 'multiple-active': 'stop_unexpected' }, 'meta attributes read');
  t.same(db1?.meta, {}, 'none');
  const defaults = await parseResourceDefaults(`<rsc_defaults><meta_attributes id="rsc-options">
    <nvpair id="s" name="resource-stickiness" value="100"/><nvpair id="m" name="multiple-active" value="block"/></meta_attributes></rsc_defaults>`);
  t.same(defaults, { 'resource-stickiness': '100', 'multiple-active': 'block' }, 'rsc_defaults read');
  t.same(await parseResourceDefaults(''), {}, 'no rsc_defaults section');
  const own = multipleActiveFinding(web1?.meta ?? {}, defaults);
  t.ok(own.ok, 'the resource\'s stop_unexpected wins over rsc_defaults');
  t.match(own.detail, /set on the resource/);
  const inherited = multipleActiveFinding({}, defaults);
  t.notOk(inherited.ok, 'block from rsc_defaults: warned');
  t.notOk(inherited.fatal, 'a warning: the move itself goes ahead');
  t.match(inherited.detail, /block \(from rsc_defaults\).*multiple-active=stop_unexpected/);
  const unset = multipleActiveFinding({}, {});
  t.match(unset.detail, /stop_start \(Pacemaker's default\)/, 'nothing set: the default, warned');
  t.ok(multipleActiveFinding({}, { 'multiple-active': 'stop_unexpected' }).ok, 'stop_unexpected from rsc_defaults is fine');
});
