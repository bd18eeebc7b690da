/**
 * The migration-network choice in the lab, through `ferry check` and the lab's helpers (`ferry serve` in each node):
 * node2.mn over the dedicated mn0 link when it resolves and answers; the back-channel, with the reason, when the
 * name does not resolve or the link is down; a failure with require_migration_network=true.
 */
import t from 'tap';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { crm, labDown, labUp, LAB_DIR, nodeExec, REPO } from '../lab/lab.js';
import { containerResource, createAndWait, criuForTests } from '../lab/scenario.js';
import { criuFeatures, type CriuFeatures } from '../lab/criu-for-tests.js';

const FERRY = join(REPO, 'bin', 'ferry');
const ID = 'mn1';
/** What the target's kernel (this machine's: the nodes share it) lets CRIU do, asked of CRIU here. */
let target: CriuFeatures = { memDirtyTrack: false, uffdNoncoop: false };
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

async function check(extra: string[] = []): Promise<{ code: number; out: string }> {
  const r = await nodeExec(1, FERRY, ['check', ID, 'node2', ...extra]);
  return { code: r.exitCode, out: `${r.stdout}\n${r.stderr}` };
}

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  await labUp(); // which starts ferry serve on every node, with the key in LAB_DIR/authkey
  const criu = await criuForTests();
  target = await criuFeatures(criu);
  await createAndWait(containerResource(ID, '10.78.0.81', criu), 'node1');
});
t.teardown(async () => { await labDown(); });

t.test('node2.mn over the dedicated link when it resolves and the helper answers', async (t) => {
  const r = await check();
  t.equal(r.code, 0, 'check passes');
  t.match(r.out, /ok\s+migration network\s+node2\.mn \(10\.79\.0\.2, migration\): node2\.mn \(10\.79\.0\.2\) via mn0: helper answers/);
  t.match(r.out, /ok\s+peer CRIU\s+node2 has CRIU 4\.\d/, 'CRIU versions compared');
  t.match(r.out, /ok\s+clock skew\s+\d+ ms/, 'clock skew measured');
  t.match(r.out, new RegExp(`ok\\s+target features\\s+node2: criu check passes, soft-dirty ${yesNo(target.memDirtyTrack)}, userfaultfd ${yesNo(target.uffdNoncoop)}`),
    'the target\'s own features, from its helper (as criu check --feature answers on this kernel)');
  t.match(r.out, /ok\s+target memory\s+node2 has \d+ MiB available/, 'room for the container in the target\'s memory');
});

t.test('node2.mn unresolvable: back-channel, and why', async (t) => {
  const hosts = join(LAB_DIR, 'node1', 'hosts');
  const saved = readFileSync(hosts, 'utf8');
  writeFileSync(hosts, saved.split('\n').filter((l) => !l.includes('node2.mn')).join('\n'));
  const r = await check();
  writeFileSync(hosts, saved);
  t.match(r.out, /migration network\s+node2 \(10\.78\.0\.2, back-channel\): node2\.mn does not resolve/);
});

t.test('mn0 down: back-channel; with require_migration_network=true the check fails', async (t) => {
  await nodeExec(1, 'ip', ['link', 'set', 'mn0', 'down']);
  const r = await check();
  t.match(r.out, /migration network\s+node2 \(10\.78\.0\.2, back-channel\): node2\.mn \(10\.79\.0\.2\) (is not routed through any local interface|: the peer's helper does not answer)/);
  await crm(1, ['crm_resource', '--resource', ID, '--set-parameter', 'require_migration_network', '--parameter-value', 'true']);
  const strict = await check();
  t.equal(strict.code, 1, 'exit 1');
  t.match(strict.out, /FAIL/, strict.out);
  t.match(strict.out, /FAIL\s+migration network\s+no migration network to the peer is usable and require_migration_network=true/);
  await nodeExec(1, 'ip', ['link', 'set', 'mn0', 'up']);
});
