/**
 * autoset_utilization_memory under Pacemaker (#18): start and monitor set the resource's utilization "memory"
 * from the container (here its resident memory: a native container has no memory limit), and with
 * placement-strategy=utilization Pacemaker does not move it to a node without room for it; given room, it moves
 * there live.
 */
import t from 'tap';
import { crm, resourceNodes, waitFor } from '../lab/lab.js';
import { clear, move, settled } from '../lab/cluster.js';
import { containerResource, counterFile, createAndWait, readCounter, removeResource, useLab, waitRunningOn } from '../lab/scenario.js';

let criu = '';
useLab(t, (c) => { criu = c; });

const nodeCapacity = (node: string, mib: number) =>
  crm(1, ['crm_attribute', '--node', node, '--utilization', '--name', 'memory', '--update', String(mib)]);
const utilization = async (id: string) =>
  Number((await crm(1, ['crm_resource', '--resource', id, '--utilization', '--get-parameter', 'memory', '--quiet'])).trim());

t.test('the container\'s size becomes its utilization, and Pacemaker keeps it off a node without room', async (t) => {
  const id = 'util1';
  await crm(1, ['crm_attribute', '--type', 'crm_config', '--name', 'placement-strategy', '--update', 'utilization']);
  t.teardown(async () => {
    await crm(1, ['crm_attribute', '--type', 'crm_config', '--name', 'placement-strategy', '--delete']);
    for (const n of ['node1', 'node2']) await crm(1, ['crm_attribute', '--node', n, '--utilization', '--name', 'memory', '--delete']);
  });
  await nodeCapacity('node1', 4096);
  await nodeCapacity('node2', 4096);
  const r = containerResource(id, '10.78.0.91', criu, { autoset_utilization_memory: 'true', migration_type: 'simple' });
  r.params.command = `${r.params.command} 5000 200`; // the workload holds 200 MiB
  await createAndWait(r, 'node1');
  const set = await waitFor(async () => { const v = await utilization(id).catch(() => 0); return v > 0 ? v : undefined; },
    { what: `${id}'s utilization memory`, timeoutMs: 30_000 });
  t.ok(set >= 200 && set <= 320 && set % 64 === 0, `utilization memory=${set} MiB for a 200 MiB workload (resident, rounded up to 64 MiB)`);

  await nodeCapacity('node2', Math.floor(set / 2));
  const before = readCounter(counterFile(id));
  await move(id, 'node2');
  await waitFor(async () => ((await settled()) ? true : undefined), { what: 'the cluster idle after the move', timeoutMs: 60_000 });
  t.same(await resourceNodes(1, id), ['node1'], `node2 has room for ${Math.floor(set / 2)} MiB only: ${id} stays on node1, running`);
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'the same process: not stopped, not moved');

  await nodeCapacity('node2', 4096);
  await waitRunningOn(id, 'node2');
  t.same(await resourceNodes(1, id), ['node2'], 'given room, it moves to node2');
  t.equal(readCounter(counterFile(id))?.instance, before?.instance, 'live: the same process');
  await clear(id);
  await removeResource(id);
});
