/**
 * What a stock cluster node relies on, in the lab: `ferry serve` with no --listen listens on exactly the node's
 * migration-network and back-channel addresses, and refuses to start, naming what to set, where a name resolves to
 * an address that is not the node's; a migration whose target's CPU cannot be compared (its helper stopped) is
 * refused before anything is frozen, unless cpu_check_force=true, and then the log says the CPUs were not compared;
 * the README's production crm example loads as written, every op with its timeout, and crmsh accepts its parameters;
 * ferry takes a resource id or a container name, and ferry check's 1 (would refuse) is not its 5 (could not check).
 */
import t from 'tap';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { crm, LAB_DIR, LAB_SH, nodeExec, REPO, SHARED_DIR, waitFor, type NodeId } from '../lab/lab.js';
import { agent, mustAgent } from '../lab/agent-in-node.js';
import { containerResource, createAndWait, readCounter, removeResource, useLab } from '../lab/scenario.js';

const FERRY = join(REPO, 'bin', 'ferry');
const PORT = '7797'; // beside the lab's own helpers on 7787
let criu = '';
useLab(t, (c) => { criu = c; });

/** Listening sockets on PORT inside node N, as ss shows them. */
async function listeners(n: NodeId): Promise<string[]> {
  const r = await nodeExec(n, 'ss', ['-Htln', `sport = :${PORT}`]);
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[3] ?? '').filter(Boolean).sort();
}

/** `ferry serve` inside node N with no --listen, the settings as /etc/default/ferry would give them. */
function serveIn(n: NodeId) {
  return execa('sh', [LAB_SH, 'exec', String(n), FERRY, 'serve'], {
    reject: false, timeout: 60_000,
    env: { FERRY_PORT: PORT, FERRY_AUTHKEY: join(LAB_DIR, 'authkey'), FERRY_DIR: join(LAB_DIR, `serve-dir-${n}`), FERRY_CRIU: criu },
  });
}

t.test('ferry serve with no --listen: exactly the node\'s .mn and back-channel addresses', async (t) => {
  for (const n of [1, 2] as const) {
    const serve = serveIn(n);
    try {
      const got = await waitFor(async () => { const l = await listeners(n); return l.length ? l : undefined; }, { what: `ferry serve listening in node${n}`, timeoutMs: 30_000 });
      // give it a moment: a wrong extra address would come up with the others, not later
      await new Promise((r) => setTimeout(r, 500));
      t.same(await listeners(n), [`10.78.0.${n}:${PORT}`, `10.79.0.${n}:${PORT}`].sort(), `node${n}: ${got.join(' ')}, nothing else (no 0.0.0.0, no loopback)`);
    } finally {
      serve.kill('SIGTERM');
      const r = await serve;
      t.match(r.stdout, new RegExp(`ferry helper listening on 10\\.79\\.0\\.${n},10\\.78\\.0\\.${n} port ${PORT}`), 'it says where');
    }
  }
});

t.test('a name that does not resolve to this node: ferry serve refuses, naming it and what to set', async (t) => {
  const hostsFile = join(LAB_DIR, 'node1', 'hosts');
  const original = readFileSync(hostsFile, 'utf8');
  try {
    // node1's own /etc/hosts (bind-mounted from this file) points its migration-network name at another machine
    writeFileSync(hostsFile, original.replace('10.79.0.1 node1.mn', '10.79.0.9 node1.mn'));
    const mn = await serveIn(1);
    t.equal(mn.exitCode, 4, 'exit 4');
    t.match(mn.stderr, /ferry: not installed here: ferry serve cannot choose where to listen: node1\.mn resolves to 10\.79\.0\.9, which is not an address of this node .*set FERRY_LISTEN in \/etc\/default\/ferry/);
    t.notMatch(mn.stderr, /\n\s+at /, 'no stack trace');
    t.same(await listeners(1), [], 'nothing listens');
    writeFileSync(hostsFile, original.replace('10.78.0.1 node1\n', '10.78.0.9 node1\n'));
    const bc = await serveIn(1);
    t.equal(bc.exitCode, 4, 'the back-channel name elsewhere: exit 4');
    t.match(bc.stderr, /node1 resolves to 10\.78\.0\.9, which is not an address of this node/);
    const wildcard = await execa('sh', [LAB_SH, 'exec', '1', FERRY, 'serve', '--listen', '0.0.0.0', '--port', PORT, '--authkey', join(LAB_DIR, 'authkey')], { reject: false, timeout: 30_000 });
    t.equal(wildcard.exitCode, 2, '--listen 0.0.0.0: exit 2');
    t.match(wildcard.stderr, /0\.0\.0\.0 would listen on every network of this node/);
  } finally {
    writeFileSync(hostsFile, original);
  }
});

t.test('the target\'s helper stopped: migrate_to refuses before freezing, naming cpu_check_force; forced, it migrates and says the CPUs were not compared', async (t) => {
  const id = 'ops-cpu';
  const counter = join(SHARED_DIR, `${id}.count`);
  const params: Record<string, string> = {
    name: id, command: `exec /usr/bin/python3 ${join(REPO, 'bench', 'workload', 'hold.py')} 16 0 ${counter}`,
    state_dir: SHARED_DIR, criu_binary: criu, stop_timeout: '2', migration_type: 'simple', authkey: join(LAB_DIR, 'authkey'),
  };
  const meta = { migrate_source: 'node1', migrate_target: 'node2' };
  await mustAgent(1, 'start', params);
  await waitFor(() => readCounter(counter), { what: 'workload counting', timeoutMs: 20_000 });
  const before = readCounter(counter);
  await execa('sh', [LAB_SH, 'helper', '2', 'stop']);
  try {
    const out = await agent(1, 'migrate_to', params, meta);
    t.equal(out.code, 1, 'migrate_to fails (OCF_ERR_GENERIC)');
    t.match(out.stderr, /ocf-exit-reason:not migrating ops-cpu to node2 \(target CPU\): unknown \(.*\): node2's CPU could not be compared .*cpu_check_force=true.*keeps running on node1/,
      'the reason: the CPUs could not be compared, and the parameter that overrides it');
    t.equal((await agent(1, 'monitor', params, { interval: '10000' })).code, 0, 'still running on node1');
    const record = await nodeExec(1, 'sh', ['-c', `cat ${join(SHARED_DIR, id, 'migration.json')} 2>/dev/null || echo none`]);
    t.notMatch(record.stdout, /"phase": ?"(dumping|dumped)"/, 'nothing was frozen or dumped');
    await new Promise((r) => setTimeout(r, 300));
    const still = readCounter(counter);
    t.equal(still?.instance, before?.instance, 'the same process');
    t.ok((still?.value ?? 0) > (before?.value ?? Infinity), `and it kept counting (${before?.value} -> ${still?.value})`);

    const forced = { ...params, cpu_check_force: 'true' };
    const fout = await agent(1, 'migrate_to', forced, meta);
    t.equal(fout.code, 0, `forced: migrate_to succeeds${fout.code ? `: ${fout.stderr}` : ''}`);
    t.match(fout.stderr, /WARNING: target CPU: unknown \(.*\): the CPUs were not compared, migrating anyway \(forced\)/, 'the log says the CPUs were not compared');
    await mustAgent(2, 'migrate_from', forced, meta);
    await mustAgent(1, 'stop', forced, meta);
    t.equal(readCounter(counter)?.instance, before?.instance, 'the same process, now on node2');
    t.equal((await agent(2, 'monitor', forced, { interval: '10000' })).code, 0, 'running on node2');
    await mustAgent(2, 'stop', forced);
  } finally {
    await execa('sh', [LAB_SH, 'helper', '2', 'start']);
  }
});

t.test('the README\'s production crm example loads as written, with every op and its timeout', async (t) => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Running it in production'));
  const example = /^crm configure primitive web1 ocf:ferry:container \\\n(?:.*\\\n)*.*$/m.exec(section)?.[0];
  t.ok(example, 'the example is in the section');
  if (!example) return;
  // loaded stopped: the example's command is not on the lab nodes
  const stopped = example.replace(' meta allow-migrate=true', ' meta target-role=Stopped allow-migrate=true');
  const r = await nodeExec(1, 'sh', ['-c', stopped], { timeoutMs: 60_000 });
  t.equal(r.exitCode, 0, `crm accepts it: ${r.stderr.trim()}`);
  t.notMatch(r.stderr, /ERROR|WARNING/, 'without a warning (every parameter is in the metadata)');
  const xml = await crm(1, ['cibadmin', '--query', '--scope', 'resources']);
  for (const [op, timeout] of [['start', '120s'], ['stop', '60s'], ['monitor', '20s'], ['migrate_to', '300s'], ['migrate_from', '300s']] as const) {
    t.match(xml, new RegExp(`<op [^>]*name="${op}"[^>]*timeout="${timeout}"`), `op ${op} timeout=${timeout}`);
  }
  t.match(xml, /name="migration-threshold" value="3"/);
  await nodeExec(1, 'crm', ['configure', 'delete', '--force', 'web1'], { timeoutMs: 60_000 });
});

t.test('ferry takes the resource id or the container name; ferry check: 0 can, 1 would refuse, 5 could not check', async (t) => {
  await createAndWait(containerResource('rsc-ops', '10.78.0.88', criu, { name: 'ops-web' }), 'node1');
  try {
    for (const arg of ['rsc-ops', 'ops-web']) {
      const s = await nodeExec(1, FERRY, ['status', arg, '--json']);
      t.equal(s.exitCode, 0, `ferry status ${arg}`);
      t.match(JSON.parse(s.stdout), [{ name: 'ops-web', state: 'running' }], `ferry status ${arg}: the container ops-web`);
    }
    const nope = await nodeExec(1, FERRY, ['status', 'nope']);
    t.equal(nope.exitCode, 2, 'ferry status of an unknown name: 2');
    t.match(nope.stderr, /ferry: bad request: nope is neither the id nor the container name of an ocf:ferry:container resource in this cluster \(there are: rsc-ops \(container ops-web\)\)/);
    const can = await nodeExec(1, FERRY, ['check', 'ops-web', 'node2', '--json']);
    t.equal(can.exitCode, 0, `ferry check by container name: 0 ${can.stderr}`);
    t.match(JSON.parse(can.stdout), { resource: 'rsc-ops', container: 'ops-web', verdict: 'can migrate' });
    const wrongNode = await nodeExec(2, FERRY, ['check', 'rsc-ops', 'node1']);
    t.equal(wrongNode.exitCode, 1, 'from a node where it does not run: 1, would refuse');
    t.match(wrongNode.stdout, /FAIL\s+running here/);
    await execa('sh', [LAB_SH, 'helper', '2', 'stop']);
    try {
      const blind = await nodeExec(1, FERRY, ['check', 'rsc-ops', 'node2']);
      t.equal(blind.exitCode, 5, 'the target\'s helper stopped: 5, could not check');
      t.match(blind.stdout, /\?\?\s+target CPU\s+unknown \(/);
      t.match(blind.stdout, /rsc-ops: not every check could be made \(\?\?\), and migrate_to would refuse for that/);
      const forced = await nodeExec(1, FERRY, ['check', 'rsc-ops', 'node2', '--force']);
      t.equal(forced.exitCode, 0, `--force: 0 ${forced.stdout}`);
      t.match(forced.stdout, /warn\s+target CPU\s+unknown .*the CPUs were not compared/);
    } finally {
      await execa('sh', [LAB_SH, 'helper', '2', 'start']);
    }
  } finally {
    await removeResource('rsc-ops');
  }
});
