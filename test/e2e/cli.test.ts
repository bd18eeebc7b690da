/**
 * The operator CLI under real Pacemaker: `ferry health red` with node-health-strategy=migrate-on-red drains a
 * node live, `ferry migrate` moves one container back and leaves no cli-prefer constraint, `ferry evacuate`
 * drains the other node. Every container keeps its process (counter instance) throughout.
 */
import t from 'tap';
import { join } from 'node:path';
import { crm, failedActions, labDown, labUp, nodeExec, REPO, resourceNodes, waitFor } from '../lab/lab.js';
import { settled } from '../lab/cluster.js';
import { containerResource, counterFile, createAndWait, criuForTests, readCounter, startClient } from '../lab/scenario.js';

const FERRY = join(REPO, 'bin', 'ferry');
const IDS = ['cli1', 'cli2', 'cli3', 'cli4', 'cli5'];
const ip = (i: number) => `10.78.0.${71 + i}`;

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  await labUp();
  const criu = await criuForTests();
  for (const [i, id] of IDS.entries()) await createAndWait(containerResource(id, ip(i), criu), 'node1');
});
t.teardown(async () => { await labDown(); });

const instances = () => new Map(IDS.map((id) => [id, readCounter(counterFile(id))?.instance]));
const allOn = async (node: string) => (await Promise.all(IDS.map((id) => resourceNodes(1, id)))).every((w) => w.length === 1 && w[0] === node);

t.test('ferry health red drains node1 live (migrate-on-red)', async (t) => {
  await crm(1, ['crm_attribute', '--type', 'crm_config', '--name', 'node-health-strategy', '--update', 'migrate-on-red']);
  const before = instances();
  const client = startClient(ip(0), 10, 'cli-health');
  await new Promise((r) => setTimeout(r, 1000));
  const r = await nodeExec(1, FERRY, ['health', 'red', '--reason', 'test: failing DIMM']);
  t.equal(r.exitCode, 0, `ferry health red: ${r.stdout.trim()} ${r.stderr.trim()}`);
  await waitFor(async () => (await allOn('node2')) && (await settled()), { what: 'all containers on node2', timeoutMs: 120_000 });
  t.same(instances(), before, 'every container is the same process after the evacuation');
  const c = await client.done;
  t.same(c.errors, [], 'a TCP session survived');
  const green = await nodeExec(1, FERRY, ['health', 'green']);
  t.equal(green.exitCode, 0, 'ferry health green');
});

t.test('ferry check reports the pre-migration checks without freezing anything', async (t) => {
  const before = readCounter(counterFile('cli1'));
  const r = await nodeExec(2, FERRY, ['check', 'cli1', 'node1']);
  t.equal(r.exitCode, 0, 'exit 0: it can migrate');
  t.match(r.stdout, /ok\s+criu check/, 'criu check');
  t.match(r.stdout, /ok\s+migration type\s+simple \(iterative needs soft-dirty/, 'the type it would use, and why');
  t.match(r.stdout, /ok\s+space/, 'room in state_dir');
  t.match(r.stdout, /cli1 can migrate from node2 to node1/, 'verdict');
  const wrong = await nodeExec(1, FERRY, ['check', 'cli1', 'node2', '--json']);
  t.equal(wrong.exitCode, 1, 'from a node where it does not run: exit 1');
  t.equal(JSON.parse(wrong.stdout).findings.find((f: { check: string }) => f.check === 'running here').ok, false, 'and says why');
  t.equal(readCounter(counterFile('cli1'))?.instance, before?.instance, 'nothing was frozen or restarted');
});

t.test('ferry migrate moves one back live and clears its constraint', async (t) => {
  const before = readCounter(counterFile('cli1'))?.instance;
  const r = await nodeExec(1, FERRY, ['migrate', 'cli1', 'node1'], { timeoutMs: 120_000 });
  t.equal(r.exitCode, 0, 'exit 0');
  t.match(r.stdout, /cli1 moved live node2 -> node1 \(simple\): downtime \d+ ms/, r.stdout.trim().split('\n').pop() ?? '');
  t.same(await resourceNodes(1, 'cli1'), ['node1'], 'runs on node1');
  t.equal(readCounter(counterFile('cli1'))?.instance, before, 'same process');
  const constraints = await crm(1, ['cibadmin', '--query', '--scope', 'constraints']);
  t.notMatch(constraints, /cli-prefer-cli1/, 'no leftover cli-prefer constraint');
  const status = JSON.parse((await nodeExec(1, FERRY, ['status', 'cli1', '--json'])).stdout) as { state: string; lastMigration?: { target: string; downtimeMs: number } }[];
  t.equal(status[0]?.state, 'running', 'ferry status on node1: running');
  t.equal(status[0]?.lastMigration?.target, 'node1', 'and its last migration, into node1');
  const json = await nodeExec(1, FERRY, ['migrate', 'cli1', 'node1', '--json']);
  t.equal(JSON.parse(json.stdout).message, 'cli1 already runs on node1', '--json, and idempotent');
});

t.test('ferry evacuate node2 drains it and prints a table', async (t) => {
  const before = instances();
  // without resource-stickiness Pacemaker may already have rebalanced some back after node1 turned green
  const onNode2 = [];
  for (const id of IDS) if ((await resourceNodes(1, id)).includes('node2')) onNode2.push(id);
  t.ok(onNode2.length > 0, `containers on node2 before: ${onNode2.join(', ')}`);
  const r = await nodeExec(1, FERRY, ['evacuate', 'node2'], { timeoutMs: 200_000 });
  t.equal(r.exitCode, 0, 'exit 0');
  t.match(r.stdout, /RESOURCE\s+FROM\s+TO\s+HOW\s+DOWNTIME/, 'summary table');
  t.match(r.stdout, /node2 holds no containers/, 'reports the node empty');
  for (const id of onNode2) t.match(r.stdout, new RegExp(`${id}\\s+node2\\s+node1\\s+live\\s+\\d+ ms`), `${id} moved live`, { table: r.stdout });
  t.ok(await allOn('node1'), 'all on node1');
  t.same(instances(), before, 'same processes');
  await crm(1, ['crm_attribute', '--node', 'node2', '--name', 'standby', '--update', 'off']);
  t.same(await failedActions(1), [], 'crm_mon clean');
});
