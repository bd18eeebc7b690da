/**
 * #14 finding 8: the agent and CRIU SIGKILLed in the middle of a restore, as Pacemaker's timeout kills the agent's
 * whole process group. CRIU writes its pidfile only at the very end, after the tree it restores has lost the
 * parent-death signal that would kill it with CRIU: a kill in between used to leave a tree running that nothing
 * named (the probe said 7, both stops left it, the next start made a second copy). Ferry's CRIU action script
 * now names the root task as soon as it exists. The kill lands at points spread over the restore, measured first
 * on this machine (no guessed delays): wherever it lands, the probe must tell the truth and Pacemaker's recovery
 * (stop on both, start on the source) must end with one copy.
 */
import t from 'tap';
import { join } from 'node:path';
import { LAB_DIR, nodeExec, REPO, SHARED_DIR, waitFor } from '../lab/lab.js';
import { agent, AGENT, mustAgent } from '../lab/agent-in-node.js';
import { workloadPids } from '../lab/faults.js';
import { readCounter, useLab } from '../lab/scenario.js';
import type { MigrationRecord } from '../../src/migrate/record.js';
import { readFileSync } from 'node:fs';

const SIZE_MIB = 128;
const META = { migrate_source: 'node1', migrate_target: 'node2' };
let criu = '';
useLab(t, (c) => { criu = c; });

async function startHolding(id: string) {
  const counter = join(SHARED_DIR, `${id}.count`);
  const params: Record<string, string> = {
    name: id, command: `exec /usr/bin/python3 ${join(REPO, 'bench', 'workload', 'hold.py')} ${SIZE_MIB} 0 ${counter}`,
    state_dir: SHARED_DIR, criu_binary: criu, stop_timeout: '2', migration_type: 'simple', authkey: join(LAB_DIR, 'authkey'),
  };
  await mustAgent(1, 'start', params);
  await waitFor(() => readCounter(counter) !== undefined, { what: 'workload counting', timeoutMs: 20_000 });
  return { params, counter };
}

const recordOf = (id: string): MigrationRecord => JSON.parse(readFileSync(join(SHARED_DIR, id, 'migration.json'), 'utf8')) as MigrationRecord;

t.test('agent and CRIU SIGKILLed at points over the restore: never a tree Ferry cannot see, one copy after recovery', async (t) => {
  // how long a restore of this workload takes here, from the record's restoring mark to restored
  const cal = await startHolding('flt-rcal');
  await mustAgent(1, 'migrate_to', cal.params, META);
  await mustAgent(2, 'migrate_from', cal.params, META);
  const r = recordOf('flt-rcal');
  const spanMs = (r.restoredAt ?? 0) - (r.restoreStartedAt ?? 0);
  t.ok(spanMs > 0, `a ${SIZE_MIB} MiB restore takes ${spanMs} ms here`);
  await mustAgent(2, 'stop', cal.params);

  const outcomes: string[] = [];
  for (const [i, fraction] of [0.03, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2].entries()) {
    const id = `flt-rkill${i}`;
    const delay = ((spanMs * fraction) / 1000).toFixed(3);
    await t.test(`killed ${delay} s (${fraction} of the restore) after it began`, async (t) => {
      const { params, counter } = await startHolding(id);
      const out = await agent(1, 'migrate_to', params, META);
      t.equal(out.code, 0, `migrate_to (${out.stderr.trim().split('\n').pop() ?? ''})`);
      const env = [...Object.entries(params).map(([k, v]) => `OCF_RESKEY_${k}=${v}`),
        ...Object.entries({ ...META, on_node: 'node2', timeout: '60000' }).map(([k, v]) => `OCF_RESKEY_CRM_meta_${k}=${v}`)];
      await nodeExec(2, join(REPO, 'test', 'lab', 'kill-group.sh'),
        [join(SHARED_DIR, id, 'migration.json'), '"restoring"', delay, 'env', ...env, AGENT, 'migrate_from'], { timeoutMs: 60_000 });
      // the killed group is gone once no CRIU is left; what remains is a whole tree, a frozen one, or nothing
      await waitFor(async () => ((await nodeExec(2, 'pgrep', ['-x', 'criu'])).stdout.trim() === '' ? true : undefined),
        { what: 'CRIU gone after the kill', timeoutMs: 10_000, intervalMs: 100 });
      const left = await workloadPids(counter);
      const pidfile = (await nodeExec(2, 'test', ['-e', `/run/ferry/${id}.restored.pid`])).exitCode === 0;
      const adopted = (await nodeExec(2, 'test', ['-e', `/run/ferry/restoring/${id}.json`])).exitCode !== 0;
      t.ok(left.length <= 1, `${left.length} cop${left.length === 1 ? 'y' : 'ies'} of the workload left on node2`);
      // or the tree's root task, made by CRIU and left half-restored (it holds the container's namespaces, its
      // address among them): still something of the container on node2, which a stop must remove
      const root = (await nodeExec(2, 'cat', [`/run/ferry/${id}.restored-root.pid`])).stdout.trim();
      const rootLives = async () => root !== '' && /^\S+ \(.*\) [^ZX] /.test((await nodeExec(2, 'cat', [`/proc/${root}/stat`])).stdout);
      const somethingHere = left.length > 0 || (await rootLives());
      const probe = await agent(2, 'monitor', params);
      // what the probe says is checked against what is there: running (0) or failed (1) when anything of the
      // container is left (Pacemaker then stops it), not running (7) only when nothing is
      if (somethingHere) t.not(probe.code, 7, `the probe on node2 does not say "not running" with ${left.length ? 'the workload' : `its root task (pid ${root})`} there (said ${probe.code})`);
      else t.equal(probe.code, 7, 'the probe on node2 says not running, and nothing is there');
      // Pacemaker's recovery of a failed migrate_from: stop on both, then start on one (node1 resumes the checkpoint)
      t.equal((await agent(2, 'stop', params)).code, 0, 'stop on node2');
      t.equal((await agent(1, 'stop', params)).code, 0, 'stop on node1');
      t.same(await workloadPids(counter), [], 'nothing runs after both stops: no tree Ferry could not see');
      t.notOk(await rootLives(), `the restore's root task${root ? ` (pid ${root})` : ''} is gone too`);
      t.equal((await agent(1, 'start', params)).code, 0, 'start on node1');
      t.equal((await workloadPids(counter)).length, 1, 'one copy');
      outcomes.push(`${fraction}: ${!left.length && somethingHere ? 'a half-restored task' : left.length ? `tree left, ${adopted ? 'adopted by the agent before the kill' : pidfile ? 'CRIU\'s pidfile written' : 'no CRIU pidfile (found through the early pid)'}` : 'no tree'}`);
      await mustAgent(1, 'stop', params);
    });
  }
  t.comment(`outcomes by fraction of the restore: ${outcomes.join('; ')}`);
});
