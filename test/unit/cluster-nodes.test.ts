/** The cluster's nodes as the engine asks them of Pacemaker: full and remote ones (a real crm_mon of the remote lab). */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodesOfCrmMon } from '../../src/util/node-name.js';
import { REPO } from '../lab/lab.js';

t.test('crm_mon of a cluster with two full and two remote nodes, as remote1 saw it', async (t) => {
  const xml = readFileSync(join(REPO, 'test', 'unit', 'fixtures', 'crm-mon-remote-nodes.xml'), 'utf8');
  t.same(nodesOfCrmMon(xml), ['node1', 'node2', 'remote1', 'remote2'], 'members and remote nodes, each once (not the history\'s nodes)');
});

t.test('ping nodes are no peers; no node list, no nodes', async (t) => {
  const xml = '<pacemaker-result><nodes><node name="a" id="1" type="member"/><node name="p" id="p" type="ping"/>'
    + '<node name="g" id="g" type="remote"/></nodes><node_history><node name="a"></node></node_history></pacemaker-result>';
  t.same(nodesOfCrmMon(xml), ['a', 'g']);
  t.same(nodesOfCrmMon('<pacemaker-result/>'), []);
});
