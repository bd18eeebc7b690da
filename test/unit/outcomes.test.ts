/**
 * The two front doors' tables from the engine's domain errors to exit codes: the agent's OCF codes (what
 * Pacemaker does with each matters: 5 and 6 ban a node or the resource, 1 is recovered) and ferry's statuses.
 */
import t from 'tap';
import { FAILURE_KINDS, FerryError, badRequest, failed, misconfigured, notInstalled, refused } from '../../src/util/errors.js';
import { OCF_CODE_OF, ocfFailure } from '../../src/ocf/outcomes.js';
import { OCF, OcfError } from '../../src/ocf/exit-codes.js';
import { CLI_OUTCOME_OF, cliFailure } from '../../src/cli/outcomes.js';

t.test('the agent: every kind has its OCF code', async (t) => {
  t.same(Object.keys(OCF_CODE_OF).sort(), [...FAILURE_KINDS].sort());
  t.same(OCF_CODE_OF, {
    'bad-request': OCF.ERR_ARGS, misconfigured: OCF.ERR_CONFIGURED, 'not-installed': OCF.ERR_INSTALLED, refused: OCF.ERR_GENERIC, failed: OCF.ERR_GENERIC,
  });
  t.same(ocfFailure(notInstalled('criu check fails on this node: x'), 'start'), { code: 5, reason: 'criu check fails on this node: x' });
  t.same(ocfFailure(misconfigured('parameter ip: bad'), 'start'), { code: 6, reason: 'parameter ip: bad' });
  t.same(ocfFailure(badRequest('migration target node1 is this node'), 'migrate_to'), { code: 2, reason: 'migration target node1 is this node' });
  t.same(ocfFailure(refused('not migrating c1 to node2 (space): ...'), 'migrate_to'), { code: 1, reason: 'not migrating c1 to node2 (space): ...' });
  t.same(ocfFailure(failed('restoring c1 on node2 failed at restore'), 'migrate_from'), { code: 1, reason: 'restoring c1 on node2 failed at restore' });
  t.same(ocfFailure(new OcfError(OCF.NOT_RUNNING, 'gone'), 'monitor'), { code: 7, reason: 'gone' }, 'the contract layer\'s own codes pass through');
  t.same(ocfFailure(new TypeError('x is undefined'), 'stop'), { code: 1, reason: 'stop failed: x is undefined' }, 'anything else: generic, with its message');
  t.same(ocfFailure('a string', 'stop'), { code: 1, reason: 'stop failed: a string' });
});

t.test('ferry: every kind has its exit status and word', async (t) => {
  t.same(Object.keys(CLI_OUTCOME_OF).sort(), [...FAILURE_KINDS].sort());
  t.same(Object.fromEntries(Object.entries(CLI_OUTCOME_OF).map(([k, v]) => [k, v.status])),
    { failed: 1, refused: 1, 'bad-request': 2, misconfigured: 3, 'not-installed': 4 });
  t.same(cliFailure(badRequest('r9 is not an ocf:ferry:container resource in this cluster')),
    { status: 2, label: 'bad request', line: 'ferry: bad request: r9 is not an ocf:ferry:container resource in this cluster' });
  t.same(cliFailure(misconfigured('r1 has no state_dir')), { status: 3, label: 'bad configuration', line: 'ferry: bad configuration: r1 has no state_dir' });
  t.same(cliFailure(new Error('crm_resource --locate r1: no such resource')), { status: 1, label: 'failed', line: 'ferry: crm_resource --locate r1: no such resource' });
  t.ok(new FerryError('refused', 'x') instanceof Error);
});
