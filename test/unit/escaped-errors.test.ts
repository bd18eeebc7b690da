/** An error no code path caught still ends the agent with an exit reason Pacemaker logs, not a bare status 1. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../lab/lab.js';

const BUNDLE = join(REPO, 'dist', 'agent.cjs');

for (const [what, late] of [['uncaught exception', "throw new Error('boom')"], ['unhandled rejection', "Promise.reject(new Error('boom'))"]] as const) {
  t.test(`an ${what} after the action`, async (t) => {
    const script = `const a = require(${JSON.stringify(BUNDLE)}); setTimeout(() => { ${late}; }, 50); a.main(['usage']);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    t.equal(r.status, 1, 'OCF_ERR_GENERIC');
    t.match(r.stderr, new RegExp(`^ocf-exit-reason:usage: internal error \\(${what}: boom\\); this is a bug in ferry$`, 'm'), 'with a reason');
  });
}
