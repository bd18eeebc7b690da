/**
 * validate-all as Pacemaker's tools call it: with OCF_CHECK_LEVEL=10 it also checks this node (CRIU runs,
 * state_dir is there, the bridge exists) and answers 5 (OCF_ERR_INSTALLED) with the fact that failed; and
 * `crm_resource --validate` (pacemaker 2.1.5), which runs the installed agent's validate-all and prints
 * "Operation validate (ocf:ferry:container) returned N (<text>: <exit reason>)", exiting with the agent's code.
 */
import t from 'tap';
import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Scratch, agent, crashLines, criuForTests, ensureInstalled, exactly, ocfEnv, requireRootAndTools, shown,
} from './fixtures/agent.js';

const scratch = new Scratch('valid');
const runDir = scratch.runDir;
const stateDir = join(scratch.dir, 'shared');
const DEEP = { OCF_CHECK_LEVEL: '10' };
let criu = '';

t.before(async () => {
  requireRootAndTools(['crm_resource', 'unshare', 'nsenter', 'setsid', 'ip', 'hostname']);
  criu = await criuForTests();
  requireRootAndTools([criu]);
  mkdirSync(stateDir, { mode: 0o700 });
  t.comment(await ensureInstalled());
});
t.teardown(() => scratch.cleanup());

const good = () => ({ name: scratch.name(), command: scratch.command(), criu_binary: criu, state_dir: stateDir });

t.test('OCF_CHECK_LEVEL=10 with a good configuration: 0', async (t) => {
  const r = await agent('validate-all', { runDir, params: good(), env: DEEP });
  t.equal(r.code, 0, `criu_binary=${criu}, state_dir present: 0`, shown(r));
  t.equal(r.reasons.length, 0, 'no exit reason');
});

t.test('OCF_CHECK_LEVEL=10 refuses a node that lacks something, with 5 and the fact', async (t) => {
  const cases: { what: string; params: Record<string, string>; reason: RegExp }[] = [
    { what: 'criu_binary does not exist', params: { criu_binary: join(scratch.dir, 'no-such-criu') }, reason: /criu_binary .*no-such-criu/ },
    { what: 'state_dir does not exist', params: { state_dir: join(scratch.dir, 'unmounted') }, reason: /state_dir .*unmounted.* does not exist/ },
    { what: 'state_dir is a file', params: { state_dir: join(scratch.dir, 'a-file') }, reason: /state_dir .*a-file.* not a directory/ },
    { what: 'bridge does not exist', params: { bridge: 'fytnobr0' }, reason: /bridge fytnobr0 does not exist/ },
  ];
  writeFileSync(join(scratch.dir, 'a-file'), '');
  for (const c of cases) {
    const r = await agent('validate-all', { runDir, params: { ...good(), ...c.params }, env: DEEP });
    t.equal(r.code, 5, `${c.what}: 5`, shown(r));
    t.equal(r.reasons.length, 1, `${c.what}: one exit reason`, shown(r));
    t.match(r.reasons[0] ?? '', c.reason, `${c.what}: the reason says so`);
    t.same(crashLines(r.stderr), [], `${c.what}: no stack trace`);
  }
  // the level-0 check is about parameters only: the same node facts do not matter there
  const shallow = await agent('validate-all', { runDir, params: { ...good(), bridge: 'fytnobr0', state_dir: join(scratch.dir, 'unmounted') } });
  t.equal(shallow.code, 0, 'at level 0 the same configuration is valid', shown(shallow));
});

t.test('OCF_CHECK_LEVEL=10 without state_dir: a missing criu_binary is named', async (t) => {
  const params = { name: scratch.name(), command: scratch.command(), criu_binary: join(scratch.dir, 'no-such-criu') };
  const r = await agent('validate-all', { runDir, params, env: DEEP });
  t.equal(r.code, 5, '5', shown(r));
  t.match(r.reasons[0] ?? '', /no-such-criu/, 'the reason names the binary that is missing');
});

const CRM_VALIDATE = ['--validate', '--class', 'ocf', '--provider', 'ferry', '--agent', 'container'];

async function crmValidate(options: Record<string, string>) {
  const [file, args] = exactly(ocfEnv({ runDir }),
    ['crm_resource', ...CRM_VALIDATE, ...Object.entries(options).flatMap(([k, v]) => ['--option', `${k}=${v}`])]);
  const r = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 60_000 });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

t.test('crm_resource --validate: success for good parameters', async (t) => {
  const r = await crmValidate({ name: scratch.name(), command: 'sleep 1000' });
  t.equal(r.code, 0, 'exit 0', r);
  t.match(r.stdout, /Operation validate \(ocf:ferry:container\) returned 0 \(ok\)/, 'reports ok');
  const deep = await crmValidate({ name: scratch.name(), command: 'sleep 1000', criu_binary: criu, state_dir: stateDir, ip: '10.231.9.9/24', bridge: 'lo' });
  t.equal(deep.code, 0, 'with every node-related parameter set: exit 0 (crm_resource validates at level 0)', deep);
});

t.test('crm_resource --validate: the agent\'s code and reason for bad parameters', async (t) => {
  const cases: { what: string; options: Record<string, string>; reason: RegExp }[] = [
    { what: 'name with a path', options: { name: '../etc', command: 'sleep 1000' }, reason: /parameter name: "\.\.\/etc" is not a container name/ },
    { what: 'no command', options: { name: scratch.name() }, reason: /parameter command: is required/ },
    { what: 'ip without a prefix', options: { name: scratch.name(), command: 'sleep 1000', ip: '10.0.0.1', bridge: 'br0' }, reason: /parameter ip: "10\.0\.0\.1" is not an address with a prefix length/ },
    { what: 'stop_timeout not a number', options: { name: scratch.name(), command: 'sleep 1000', stop_timeout: 'soon' }, reason: /parameter stop_timeout: "soon" is not a whole number/ },
  ];
  for (const c of cases) {
    const r = await crmValidate(c.options);
    t.equal(r.code, 6, `${c.what}: exit 6 (not configured)`, r);
    t.match(r.stdout, new RegExp(`Operation validate \\(ocf:ferry:container\\) returned 6 \\(not configured: ${c.reason.source}`),
      `${c.what}: prints the reason`);
    t.match(r.stderr, /Error performing operation: Not configured/, `${c.what}: and the error on stderr`);
  }
});
