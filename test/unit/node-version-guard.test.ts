/** The agent and `ferry` on a Node.js older than they run on: a reason and the right exit code, no syntax error. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../lab/lab.js';

function runAs(nodeVersion: string, entry: string, args: string[]) {
  const script = `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: ${JSON.stringify(nodeVersion)} } });`
    + `process.argv = ['node', 'x', ...${JSON.stringify(args)}]; require(${JSON.stringify(entry)});`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
}

/** The agent's Node.js entry (the shell entry ocf/ferry/container execs it for every action it does not answer itself). */
const AGENT = join(REPO, 'ocf', 'ferry', 'agent.cjs');
const FERRY = join(REPO, 'bin', 'ferry');

for (const old of ['16.20.2', '18.18.2']) {
  t.test(`on Node.js ${old}`, async (t) => {
    const a = runAs(old, AGENT, ['monitor']);
    t.equal(a.status, 5, 'the agent exits OCF_ERR_INSTALLED');
    t.match(a.stderr, new RegExp(`^ocf-exit-reason:ferry needs Node.js 18.19 or newer; .* is v${old.replace(/\./g, '\\.')}`), 'with a reason Pacemaker shows');
    const f = runAs(old, FERRY, ['version']);
    t.equal(f.status, 4, 'ferry exits 4 (something this node needs is missing)');
    t.match(f.stderr, /ferry: needs Node\.js 18\.19 or newer/);
  });
}

t.test('on Node.js 18.19 the guard lets both through', async (t) => {
  t.equal(runAs('18.19.0', AGENT, ['meta-data']).status, 0, 'meta-data');
  t.equal(runAs('18.19.0', FERRY, ['version']).status, 0, 'ferry version');
});
