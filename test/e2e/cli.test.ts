/**
 * The operator CLI under real Pacemaker: `ferry health red` with node-health-strategy=migrate-on-red drains a
 * node live, `ferry migrate` moves one container back and leaves no cli-prefer constraint, `ferry evacuate`
 * drains the other node. Every container keeps its process (counter instance) throughout.
 */
import t from 'tap';
import { join } from 'node:path';
import { crm, failedActions, labDown, labUp, nodeExec, REPO, resourceNodes, waitFor } from '../lab/lab.js';
import { settled } from '../lab/cluster.js';
import { clientReplies, containerResource, counterFile, createAndWait, criuForTests, readCounter, startClient, waitReplies } from '../lab/scenario.js';
import { criuFeatures } from '../lab/criu-for-tests.js';

const FERRY = join(REPO, 'bin', 'ferry');
const IDS = ['cli1', 'cli2', 'cli3', 'cli4', 'cli5'];
const ip = (i: number) => `10.78.0.${71 + i}`;
/** The type the default (iterative) becomes on this machine's kernel, which the lab nodes share: simple without soft-dirty. */
let liveType = 'simple';

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  await labUp();
  const criu = await criuForTests();
  liveType = (await criuFeatures(criu)).memDirtyTrack ? 'iterative' : 'simple';
  for (const [i, id] of IDS.entries()) await createAndWait(containerResource(id, ip(i), criu), 'node1');
});
t.teardown(async () => { await labDown(); });

const instances = () => new Map(IDS.map((id) => [id, readCounter(counterFile(id))?.instance]));
const allOn = async (node: string) => (await Promise.all(IDS.map((id) => resourceNodes(1, id)))).every((w) => w.length === 1 && w[0] === node);

t.test('ferry health red drains node1 live (migrate-on-red)', async (t) => {
  await crm(1, ['crm_attribute', '--type', 'crm_config', '--name', 'node-health-strategy', '--update', 'migrate-on-red']);
  const before = instances();
  const client = startClient(ip(0), 300, 'cli-health');
  await waitReplies(client, 20);
  const r = await nodeExec(1, FERRY, ['health', 'red', '--reason', 'test: failing DIMM']);
  t.equal(r.exitCode, 0, `ferry health red: ${r.stdout.trim()} ${r.stderr.trim()}`);
  t.match(r.stdout, /node1: #health-ferry=red \(test: failing DIMM\)\n.*score -INFINITY under migrate-on-red/, 'says what Pacemaker will do');
  await waitFor(async () => (await allOn('node2')) && (await settled()), { what: 'all containers on node2', timeoutMs: 120_000 });
  t.same(instances(), before, 'every container is the same process after the evacuation');
  await waitReplies(client, 20, clientReplies(client));
  client.stop();
  const c = await client.done;
  t.same(c.errors, [], 'a TCP session survived');
  t.equal((await crm(1, ['crm_attribute', '--node', 'node1', '--name', '#health-ferry', '--query', '--quiet', '--lifetime', 'forever'])).trim(), 'red',
    'permanent: it survives a reboot');
  const last = await nodeExec(1, FERRY, ['health', 'red', '--node', 'node2', '--source', 'test-psu', '--reason', 'test: PSU']);
  t.equal(last.exitCode, 1, 'red on node2 as well is refused: no node would be left for the containers');
  t.match(last.stderr, /node2 is the last node healthy enough for containers/);
  t.ok(await allOn('node2'), 'and every container still runs on node2');
  const green = await nodeExec(1, FERRY, ['health', 'green']);
  t.equal(green.exitCode, 0, 'ferry health green');
});

t.test('ferry check reports the pre-migration checks without freezing anything', async (t) => {
  const before = readCounter(counterFile('cli1'));
  const r = await nodeExec(2, FERRY, ['check', 'cli1', 'node1']);
  t.equal(r.exitCode, 0, 'exit 0: it can migrate');
  t.match(r.stdout, /ok\s+criu check/, 'criu check');
  t.match(r.stdout, liveType === 'simple' ? /ok\s+migration type\s+simple \(iterative needs soft-dirty/ : /ok\s+migration type\s+iterative/,
    `the type it would use on this kernel (${liveType}), and why`);
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
  t.match(r.stdout, new RegExp(`cli1 moved live node2 -> node1 \\(${liveType}\\): downtime \\d+ ms`), r.stdout.trim().split('\n').pop() ?? '');
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

t.test('ferry migrate refuses before asking Pacemaker when a pre-check is fatal: the container keeps running, never restarted', async (t) => {
  const before = readCounter(counterFile('cli1'))?.instance;
  const init = JSON.parse((await nodeExec(1, 'cat', ['/run/ferry/containers/cli1.json'])).stdout) as { pid: number };
  // a process attached from outside cannot be checkpointed with the container: migrate_to would refuse
  const intruder = nodeExec(1, 'nsenter', ['-t', String(init.pid), '-p', '-n', '-u', '-i', 'sleep', '301'], { timeoutMs: 320_000 });
  const inside = `for p in $(pgrep -x sleep); do [ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$1/ns/pid)" ] && grep -q 301 /proc/$p/cmdline && echo $p; done; true`;
  const pid = await waitFor(async () => (await nodeExec(1, 'sh', ['-c', inside, 'sh', String(init.pid)])).stdout.trim().split('\n')[0] || undefined,
    { what: 'the attached sleep inside cli1', timeoutMs: 30_000, intervalMs: 100 });
  const r = await nodeExec(1, FERRY, ['migrate', 'cli1', 'node2'], { timeoutMs: 120_000 });
  t.equal(r.exitCode, 1, 'exit 1');
  t.match(r.stderr, /ferry: refused: not asking Pacemaker to move cli1 to node2: attached processes: .*sleep 301.*keeps running on node1/, 'the reason names the intruder');
  const constraints = await crm(1, ['cibadmin', '--query', '--scope', 'constraints']);
  t.notMatch(constraints, /cli-prefer-cli1/, 'Pacemaker was never asked (no cli-prefer constraint)');
  t.same(await resourceNodes(1, 'cli1'), ['node1'], 'still on node1');
  t.equal(readCounter(counterFile('cli1'))?.instance, before, 'the same process: nothing was stopped or restarted');
  await nodeExec(1, 'kill', ['-KILL', pid]);
  await intruder;
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
