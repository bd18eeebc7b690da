/**
 * `ferry health`'s decisions, without Pacemaker: which attribute a source writes, what a colour scores under each
 * node-health-strategy (Pacemaker Explained, "Tracking Node Health"), and the refusal to take away the last node
 * healthy enough for the containers. The cluster's state is parsed from a CIB and crm_mon's XML as Pacemaker
 * 2.1 prints them.
 */
import t from 'tap';
import {
  colourScores, decideHealthChange, describeEffect, healthAttribute, INFINITY, nodeScore, parseScore, reasonAttribute,
  type HealthStrategy, type HealthView, type NodeHealth,
} from '../../src/cli/health-decision.js';
import { parseHealthView } from '../../src/cli/health-cib.js';
import { formatHealth } from '../../src/cli/health.js';

function node(name: string, permanent: Record<string, string> = {}, change: Partial<NodeHealth> = {}): NodeHealth {
  return { name, available: true, unavailable: undefined, permanent, transient: {}, ...change };
}
const view = (strategy: HealthStrategy, nodes: NodeHealth[], options: Record<string, string> = {}): HealthView => ({ strategy, options, nodes });

t.test('each source writes its own attribute; the reason lives beside it, outside #health', async (t) => {
  t.equal(healthAttribute(undefined), '#health-ferry', 'by hand (and ferry evacuate --via health): the old name');
  t.equal(healthAttribute('smartd-/dev/sda [SAT]-FailedHealthCheck'), '#health-ferry-smartd-dev-sda-sat-failedhealthcheck');
  t.equal(healthAttribute('ipmi-CPU1 Temp'), '#health-ferry-ipmi-cpu1-temp');
  t.not(healthAttribute('ipmi-PSU1'), healthAttribute('ipmi-FAN3'), 'one attribute per sensor');
  t.throws(() => healthAttribute('  /  '), /no letters or digits/);
  t.equal(reasonAttribute('#health-ferry'), 'ferry-health-reason');
  t.equal(reasonAttribute('#health-ferry-mcelog'), 'ferry-health-reason-mcelog');
});

t.test('what each colour scores under each strategy', async (t) => {
  t.equal(colourScores('none', {}), undefined, 'none: health attributes are ignored');
  t.same(colourScores('migrate-on-red', {}), { red: -INFINITY, yellow: 0, green: 0, base: 0 }, 'migrate-on-red: yellow scores 0, it does nothing');
  t.same(colourScores('only-green', {}), { red: -INFINITY, yellow: -INFINITY, green: 0, base: 0 }, 'only-green: yellow drains like red');
  t.same(colourScores('progressive', {}), { red: -INFINITY, yellow: 0, green: 0, base: 0 }, 'progressive: Pacemaker 2.1 defaults');
  t.same(colourScores('progressive', { 'node-health-yellow': '-100', 'node-health-base': '50' }), { red: -INFINITY, yellow: -100, green: 0, base: 50 });
  t.equal(parseScore('-INFINITY'), -INFINITY);
  t.equal(parseScore('+INFINITY'), INFINITY);
  t.equal(parseScore('red'), undefined);
  const mor = colourScores('migrate-on-red', {})!;
  t.equal(nodeScore({ '#health-ferry-smartd-x': 'yellow', '#health-ferry-ipmi-fan3': 'green' }, mor), 0);
  t.equal(nodeScore({ '#health-ferry-mcelog': 'red', '#health-ferry-ipmi-psu1': 'green', '#health-cpu': '200' }, mor), -INFINITY, '-INFINITY wins');
  t.equal(nodeScore({ '#health-ferry-a': 'yellow', '#health-ferry-b': 'yellow', 'ferry-health-reason-a': 'red' }, colourScores('progressive', { 'node-health-yellow': '-10', 'node-health-base': '15' })!), -5,
    'progressive: base plus every #health attribute, reasons not counted');
  t.match(describeEffect('migrate-on-red', 0), /resources may run here/, 'yellow under migrate-on-red');
  t.match(describeEffect('progressive', -5), /avoid this node; those whose stickiness outweighs it stay/);
  t.match(describeEffect('only-green', -INFINITY), /every resource leaves/);
});

t.test('all nodes red: the last node healthy enough is not drained without --force', async (t) => {
  const cluster = view('migrate-on-red', [
    node('node1', { '#health-ferry-smartd-sdb': 'yellow' }),
    node('node2', { '#health-ferry-mcelog': 'red' }),
    node('node3', {}, { available: false, unavailable: 'offline' }),
  ]);
  const refused = decideHealthChange(cluster, 'node1', { '#health-ferry-ipmi-psu1': 'red' }, false);
  t.equal(refused.allowed, false);
  t.match(refused.refusal, /node1 is the last node healthy enough .*health score >= 0 under migrate-on-red.*stop every container.*--force/);
  const forced = decideHealthChange(cluster, 'node1', { '#health-ferry-ipmi-psu1': 'red' }, true);
  t.equal(forced.allowed, true, '--force sets it');
  t.match(forced.warnings.join(), /--force: node1 is the last node/, 'and says so loudly');
  t.equal(decideHealthChange(cluster, 'node1', { '#health-ferry-ipmi-psu1': 'yellow' }, false).allowed, true, 'yellow under migrate-on-red keeps node1 healthy enough');
  t.equal(decideHealthChange(cluster, 'node2', { '#health-ferry-smartd-sda': 'red' }, false).allowed, true, 'node2 is drained already: nothing more is lost');
  const healthy2 = view('migrate-on-red', [node('node1'), node('node2', { '#health-ferry-mcelog': 'green' })]);
  t.equal(decideHealthChange(healthy2, 'node1', { '#health-ferry': 'red' }, false).allowed, true, 'another node takes the containers');
  const standby2 = view('migrate-on-red', [node('node1'), node('node2', {}, { available: false, unavailable: 'standby' })]);
  t.equal(decideHealthChange(standby2, 'node1', { '#health-ferry': 'red' }, false).allowed, false, 'a node in standby takes nothing');
  t.equal(decideHealthChange(cluster, 'node9', { '#health-ferry': 'red' }, false).refusal, 'node9 is not a node of this cluster (nodes: node1, node2, node3)');
});

t.test('healthy enough depends on the strategy', async (t) => {
  const two = (strategy: HealthStrategy, options: Record<string, string> = {}) => view(strategy, [node('node1'), node('node2', { '#health-ferry-mcelog': 'yellow' })], options);
  t.equal(decideHealthChange(two('only-green'), 'node1', { '#health-ferry-smartd-sda': 'yellow' }, false).allowed, false, 'only-green: yellow on the last green node is refused');
  t.equal(decideHealthChange(two('migrate-on-red'), 'node1', { '#health-ferry-smartd-sda': 'red' }, false).allowed, true, 'migrate-on-red: a yellow node takes them');
  t.equal(decideHealthChange(two('progressive', { 'node-health-yellow': '-100' }), 'node1', { '#health-ferry': 'red' }, false).allowed, false,
    'progressive: a node scoring -100 gets nothing');
  t.equal(decideHealthChange(two('progressive', { 'node-health-yellow': '-100', 'node-health-base': '100' }), 'node1', { '#health-ferry': 'red' }, false).allowed, true,
    'progressive: node-health-base lifts it back to 0');
  const none = decideHealthChange(view('none', [node('node1')]), 'node1', { '#health-ferry': 'red' }, false);
  t.equal(none.allowed, true, 'none: red moves nothing, so it cannot stop anything');
  t.match(none.warnings.join(), /node-health-strategy is none/);
});

t.test('a transient value shadows the permanent one, and is what counts', async (t) => {
  const shadowed = view('migrate-on-red', [node('node1', {}, { transient: { '#health-ferry': 'red' } }), node('node2', { '#health-ferry-mcelog': 'red' })]);
  t.equal(decideHealthChange(shadowed, 'node1', { '#health-ferry': 'green' }, false).allowed, true);
  t.equal(decideHealthChange(shadowed, 'node2', { '#health-ferry-mcelog': 'green' }, false).allowed, true, 'clearing is never refused');
});

const CIB = `<cib epoch="5" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config><cluster_property_set id="cib-bootstrap-options">
      <nvpair id="o1" name="stonith-enabled" value="true"/>
      <nvpair id="o2" name="node-health-strategy" value="migrate-on-red"/>
    </cluster_property_set></crm_config>
    <nodes>
      <node id="1" uname="node1"><instance_attributes id="nodes-1"><nvpair id="nodes-1-a" name="#health-ferry-mcelog" value="red"/><nvpair id="nodes-1-b" name="ferry-health-reason-mcelog" value="mcelog: DIMM B2"/></instance_attributes></node>
      <node id="2" uname="node2"/>
      <node id="3" uname="node3"/>
    </nodes>
    <resources/><constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-a" name="#health-ferry" value="green"/></instance_attributes></transient_attributes>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`;
// crm_mon -1 --output-as=xml (Pacemaker 2.1.5) for that CIB, node2 in standby
const CRM_MON = `<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <nodes>
    <node name="node1" id="1" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="red" shutdown="false" expected_up="true" is_dc="true" resources_running="0" type="member"/>
    <node name="node2" id="2" online="true" standby="true" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" shutdown="false" expected_up="true" is_dc="false" resources_running="0" type="member"/>
    <node name="node3" id="3" online="false" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" shutdown="false" expected_up="false" is_dc="false" resources_running="0" type="member"/>
  </nodes>
  <status code="0" message="OK"/>
</pacemaker-result>`;

t.test('the cluster as the CIB and crm_mon show it', async (t) => {
  const v = await parseHealthView(CIB, CRM_MON);
  t.equal(v.strategy, 'migrate-on-red');
  t.same(v.nodes.map((n) => [n.name, n.available, n.unavailable]), [['node1', true, undefined], ['node2', false, 'standby'], ['node3', false, 'offline']]);
  t.same(v.nodes[0]?.permanent, { '#health-ferry-mcelog': 'red', 'ferry-health-reason-mcelog': 'mcelog: DIMM B2' });
  t.same(v.nodes[0]?.transient, { '#health-ferry': 'green' });
  const text = formatHealth(v);
  t.match(text, /node1: drained; score -INFINITY under migrate-on-red/);
  t.match(text, /#health-ferry-mcelog=red \(permanent\)  mcelog: DIMM B2/);
  t.match(text, /#health-ferry=green \(until reboot\)/);
  t.match(text, /node2: standby/);
  t.equal((await parseHealthView(CIB.replace(/<nvpair id="o2"[^>]*>/, ''), CRM_MON)).strategy, 'none', 'unset: Pacemaker\'s default');
  await t.rejects(parseHealthView(CIB.replace('migrate-on-red', 'migrate-on-blue'), CRM_MON), /none of none, migrate-on-red/);
});
