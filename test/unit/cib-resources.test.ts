/** Reading ocf:ferry:container resources from the CIB, as `ferry migrate/evacuate/check` do. */
import t from 'tap';
import { parseContainerResources } from '../../src/cli/pacemaker.js';

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
