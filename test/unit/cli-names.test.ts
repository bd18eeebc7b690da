/**
 * `ferry` takes a container by its resource id or its container name, everywhere; `ferry check` tells "would refuse"
 * (1) from "could not check" (5); --help, the man page and cli/outcomes.ts list the same exit statuses.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { findContainerResource, type ContainerResource } from '../../src/cli/pacemaker.js';
import { checkVerdict } from '../../src/cli/check.js';
import { CHECK_STATUS, checkFailure, cliFailure, EXIT_STATUSES } from '../../src/cli/outcomes.js';
import { badRequest, failed, misconfigured, notInstalled } from '../../src/util/errors.js';
import { cpuFinding } from '../../src/migrate/cpu-check.js';
import type { Finding } from '../../src/migrate/finding.js';
import { REPO } from '../lab/lab.js';

const res = (id: string, name: string): ContainerResource => ({ id, name, stateDir: '/srv/ferry', params: { name }, meta: {} });
const CIB = [res('rsc-web1', 'web1'), res('db1', 'db1'), res('rsc-a', 'x'), res('rsc-b', 'x'), res('cache', 'rsc-web1x'), res('amb', 'db1')];

t.test('a resource id or a container name finds the resource', async (t) => {
  t.equal(findContainerResource(CIB, 'rsc-web1').id, 'rsc-web1', 'by resource id');
  t.equal(findContainerResource(CIB, 'web1').id, 'rsc-web1', 'by container name');
  t.equal(findContainerResource(CIB, 'rsc-web1x').id, 'cache', 'a container name that only looks like an id');
  t.throws(() => findContainerResource(CIB, 'db1'), { kind: 'bad-request', message: /db1 is ambiguous: the id of resource db1 and the container name of amb \(container db1\)/ },
    'one resource\'s id and another\'s name: refused, not guessed');
  t.throws(() => findContainerResource(CIB, 'x'), { kind: 'bad-request', message: /container name x is used by several resources: rsc-a \(container x\), rsc-b \(container x\); give the resource id/ });
  t.throws(() => findContainerResource(CIB, 'nope'), { kind: 'bad-request', message: /nope is neither the id nor the container name .* \(there are: rsc-web1 \(container web1\), db1, / });
  t.throws(() => findContainerResource([], 'nope'), { message: /\(there is none\)$/ });
  t.equal(cliFailure(badRequest('x')).status, 2, 'an unknown name exits 2');
});

const f = (check: string, ok: boolean, fatal: boolean, unknown = false): Finding => ({ check, ok, fatal, detail: '', kind: 'refused', ...(unknown ? { unknown } : {}) });

t.test('ferry check: would refuse, could not check, can migrate', async (t) => {
  const uncompared = cpuFinding('node2', { result: 'unknown', reason: 'the helper of node2 does not answer' }, false);
  const mismatch = cpuFinding('node2', { result: 'incompatible', reason: 'cpu: CPU xsave size mismatch (832/11008)' }, false);
  t.equal(checkVerdict([f('criu check', true, false), uncompared]), 'could not check', 'the CPUs not compared: could not check');
  t.equal(checkVerdict([mismatch]), 'would refuse', 'a CPU mismatch: would refuse');
  t.equal(checkVerdict([uncompared, f('space', false, true)]), 'would refuse', 'a "no" outweighs an "unknown"');
  t.equal(checkVerdict([f('target features', false, false, true), f('criu check', true, false)]), 'can migrate', 'an unknown that is only a warning');
  t.equal(checkVerdict([cpuFinding('node2', { result: 'unknown', reason: 'r' }, true)]), 'can migrate', '--force: the uncompared CPU no longer stops it');
  t.same(CHECK_STATUS, { 'can migrate': 0, 'would refuse': 1, 'could not check': 5 });
  t.not(CHECK_STATUS['would refuse'], CHECK_STATUS['could not check'], 'two answers, two statuses');
});

t.test('ferry check: what stops the check itself is "could not check" (5), bad input keeps its own status', async (t) => {
  t.same(checkFailure(new Error('cibadmin --query --scope resources: exit code 102: Could not connect to the CIB')),
    { status: 5, label: 'could not check', line: 'ferry: could not check: cibadmin --query --scope resources: exit code 102: Could not connect to the CIB' });
  t.equal(checkFailure(failed('x')).status, 5);
  t.equal(checkFailure(badRequest('nope is neither ...')).status, 2, 'an unknown resource is a bad request');
  t.equal(checkFailure(misconfigured('r1 has no state_dir')).status, 3);
  t.equal(checkFailure(notInstalled('criu')).status, 4);
  t.equal(cliFailure(new Error('x')).status, 1, 'other commands: still 1');
});

t.test('--help, the man page and cli/outcomes.ts list the same exit statuses', async (t) => {
  const help = execFileSync(process.execPath, [join(REPO, 'bin', 'ferry'), '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  const man = readFileSync(join(REPO, 'man', 'ferry.8'), 'utf8');
  const section = man.slice(man.indexOf('.SH "EXIT STATUS"'), man.indexOf('.SH "SEE ALSO"'));
  const manStatuses = section.split('\n.TP\n').slice(1).map((entry) => {
    const [n = '', ...what] = entry.trim().split('\n');
    return [Number(n), what.join(' ').replace(/\s+/g, ' ').trim()];
  });
  t.same(manStatuses, EXIT_STATUSES.map(([n, what]) => [n, what]), 'man ferry: the table of cli/outcomes.ts');
  for (const [n, what] of EXIT_STATUSES) t.ok(help.includes(`${n} ${what}`), `ferry --help: ${n} ${what.slice(0, 40)}...`);
  const checkHelp = execFileSync(process.execPath, [join(REPO, 'bin', 'ferry'), 'check', '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  t.match(checkHelp, /exit 0 it can migrate, 1 migrate_to would refuse, 5 a check could not be made/);
  for (const cmd of ['status', 'migrate', 'check']) {
    const out = execFileSync(process.execPath, [join(REPO, 'bin', 'ferry'), cmd, '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    t.match(out, /the Pacemaker resource id or the container's name \(its name parameter\): either is accepted/, `ferry ${cmd} --help says it takes either`);
  }
});
