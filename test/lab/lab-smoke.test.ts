/**
 * The lab itself works: two real Pacemaker nodes come online and move an ocf:heartbeat:Dummy between them.
 * Fails (never skips) without root or when the lab cannot come up: every other lab test depends on this.
 */
import t from 'tap';
import {
  crm, crmMonResource, failedActions, labDown, labUp, nodeName, onlineNodes, pacemakerLog, resourceNodes, waitFor,
  type NodeId,
} from './lab.js';

const RSC = 'smoke-dummy';

t.test('two-node lab: up, Dummy moves node1 -> node2 -> node1, down', async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('the lab needs root (namespaces, corosync, pacemaker)');
    return;
  }
  t.teardown(() => labDown());

  const up = await labUp();
  t.pass(`lab up in ${up.ms} ms`);
  t.same((await onlineNodes(1)).sort(), ['node1', 'node2'], 'node1 sees both nodes online');
  t.same((await onlineNodes(2)).sort(), ['node1', 'node2'], 'node2 sees both nodes online');

  await crm(1, ['cibadmin', '--create', '-o', 'resources', '--xml-text',
    `<primitive id="${RSC}" class="ocf" provider="heartbeat" type="Dummy">
       <operations><op id="${RSC}-monitor-5s" name="monitor" interval="5s"/></operations>
     </primitive>`]);

  const runsOn = async (n: NodeId): Promise<void> => {
    try {
      await waitFor(async () => {
        const where = await resourceNodes(1, RSC);
        return where.length === 1 && where[0] === nodeName(n);
      }, { timeoutMs: 30_000, intervalMs: 300, what: `${RSC} running on ${nodeName(n)} only` });
    } catch (e) {
      t.comment(await pacemakerLog(1, 40));
      throw e;
    }
  };
  const first = (await waitFor(async () => (await resourceNodes(1, RSC))[0],
    { timeoutMs: 30_000, what: `${RSC} started somewhere` })) === 'node2' ? 2 : 1;
  t.pass(`${RSC} started on node${first}`);

  // node1 -> node2 -> node1, whichever node the cluster picked first
  const moves: NodeId[] = first === 1 ? [2, 1] : [1, 2, 1];
  for (const to of moves) {
    const started = performance.now();
    await crm(1, ['crm_resource', '--move', '-r', RSC, '-N', nodeName(to)]);
    await runsOn(to);
    t.pass(`moved to ${nodeName(to)} in ${Math.round(performance.now() - started)} ms`);
    t.same(await crmMonResource(1, RSC), { role: 'Started', nodes: [nodeName(to)] }, `crm_mon: Started on ${nodeName(to)}`);
  }
  // both nodes agree
  t.same(await resourceNodes(2, RSC), ['node1'], 'node2 also sees it on node1');

  await crm(1, ['crm_resource', '--clear', '-r', RSC]);
  const constraints = await crm(1, ['cibadmin', '--query', '-o', 'constraints']);
  t.notMatch(constraints, /cli-(prefer|ban)-/, 'no move constraint left after --clear');
  await runsOn(1);
  t.same(await failedActions(1), [], 'no failed actions (node1 view)');
  t.same(await failedActions(2), [], 'no failed actions (node2 view)');
});
