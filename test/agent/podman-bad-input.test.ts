/**
 * Bad input for driver=podman's own parameters through the real executable (test/agent/bad-input.test.ts walks
 * every parameter with the default driver; image and run_opts mean something only with driver=podman): shell
 * metacharacters and path traversal in image and run_opts, a --network of the admin's in run_opts. validate-all
 * and start refuse each with 2 or 6 and one `ocf-exit-reason:` naming the parameter, run no shell, and start
 * nothing: no podman container of the name, no record, no process.
 *
 * A well-formed image that this node does not have is different on purpose: 5 (not installed), from start and
 * from validate-all at OCF_CHECK_LEVEL=10, never 2 or 6. It is a fact about this node, not a wrong
 * configuration: Pacemaker then bans this node only and starts the container where the image is (2 or 6 would
 * stop it on every node).
 */
import t from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Scratch, agent, containerRecords, crashLines, criuForTests, ensureBuilt, remaining, requireRootAndTools, shown, type AgentResult } from './fixtures/agent.js';

const scratch = new Scratch('podman-input');
let criu = '';
const IMAGE = 'localhost/ferry-no-such-image:never';

interface Case { what: string; param: 'image' | 'run_opts'; value: (marker: string) => string; reason: RegExp }

const CASES: Case[] = [
  { what: 'image with $(…)', param: 'image', value: (m) => `$(touch ${m})`, reason: /image.*is not an image name or ID/ },
  { what: 'image with "; rm"', param: 'image', value: (m) => `busybox; touch ${m}`, reason: /image/ },
  { what: 'image with path traversal', param: 'image', value: () => 'localhost/../../etc/passwd', reason: /image.*is not an image name or ID/ },
  { what: 'run_opts with $(…)', param: 'run_opts', value: (m) => `--memory 64m --env X=$(touch ${m})`, reason: /run_opts.*shell metacharacters/ },
  { what: 'run_opts with "; touch"', param: 'run_opts', value: (m) => `--memory 64m; touch ${m}`, reason: /run_opts.*shell metacharacters/ },
  { what: 'run_opts with backticks', param: 'run_opts', value: (m) => `--env X=\`touch ${m}\``, reason: /run_opts.*shell metacharacters/ },
  { what: 'run_opts with --network', param: 'run_opts', value: () => '--memory 64m --network host', reason: /run_opts.*--network is not allowed in run_opts: Ferry makes the container's network namespace/ },
  { what: 'run_opts with --network=', param: 'run_opts', value: () => '--network=bridge', reason: /run_opts.*--network is not allowed/ },
  { what: 'run_opts with --net', param: 'run_opts', value: () => '--net ns:/proc/1/ns/net', reason: /run_opts.*--net is not allowed/ },
  { what: 'run_opts with a volume path traversal', param: 'run_opts', value: () => '--volume /srv/../../etc:/etc2', reason: /run_opts.*"\.\." path component/ },
  { what: 'run_opts with a relative traversal', param: 'run_opts', value: () => '--env-file=../../root/.env', reason: /run_opts.*"\.\." path component/ },
];

function problems(r: AgentResult, param: string, codes: number[]): string[] {
  const p: string[] = [];
  if (!codes.includes(r.code)) p.push(`exit ${r.code}, not ${codes.join(' or ')}`);
  if (r.reasons.length !== 1) p.push(`${r.reasons.length} exit reasons, not 1`);
  else if (!r.reasons[0]?.includes(param)) p.push(`the reason does not name ${param}`);
  if (crashLines(r.stderr).length) p.push('a stack trace on stderr');
  return p;
}

async function podmanHas(name: string): Promise<string[]> {
  const r = await execa('podman', ['ps', '--all', '--filter', `name=^${name}$`, '--format', '{{.Names}} {{.Status}}'], { reject: false });
  return r.stdout.split('\n').filter(Boolean);
}

async function leftovers(name: string, runDir: string, marker: string): Promise<string[]> {
  const p: string[] = [];
  if (existsSync(marker)) p.push(`${marker} was created: a shell ran the value`);
  const containers = await podmanHas(name);
  if (containers.length) p.push(`podman has ${containers.join(', ')}`);
  const records = containerRecords(runDir);
  if (records.length) p.push(`records left: ${records.join(', ')}`);
  const running = await remaining(name, 2_000);
  if (running.length) p.push(`processes left: ${running.join(', ')}`);
  return p;
}

t.before(async () => {
  requireRootAndTools(['podman', 'runc']);
  t.comment(await ensureBuilt());
  criu = await criuForTests();
});
t.teardown(() => scratch.cleanup());

const base = (name: string) => ({ name, driver: 'podman', image: IMAGE, stop_timeout: '3', criu_binary: criu });

for (const c of CASES) {
  t.test(c.what, async (t) => {
    const name = scratch.name();
    const runDir = scratch.subdir(name);
    mkdirSync(runDir, { recursive: true });
    const marker = join(runDir, 'pwned');
    const params = { ...base(name), [c.param]: c.value(marker) };
    const validate = await agent('validate-all', { runDir, params });
    t.same(problems(validate, c.param, [2, 6]), [], `validate-all: ${validate.code} ${validate.reasons[0] ?? ''}`, shown(validate));
    t.match(validate.reasons[0] ?? '', c.reason, 'the reason says what is wrong');
    const start = await agent('start', { runDir, params });
    t.same(problems(start, c.param, [validate.code]), [], `start: ${start.code} (the same as validate-all)`, shown(start));
    t.same(await leftovers(name, runDir, marker), [], 'nothing started, no shell ran the value');
  });
}

t.test('an image this node does not have: 5 (this node only), not 2 or 6, and nothing started', async (t) => {
  const name = scratch.name();
  const runDir = scratch.subdir(name);
  const params = base(name);
  const v0 = await agent('validate-all', { runDir, params });
  t.equal(v0.code, 0, 'validate-all at level 0 (crm_resource --validate) checks the configuration only');
  const v10 = await agent('validate-all', { runDir, params, env: { OCF_CHECK_LEVEL: '10' } });
  t.same(problems(v10, 'image', [5]), [], `validate-all at level 10: ${v10.code} ${v10.reasons[0] ?? ''}`, shown(v10));
  t.match(v10.reasons[0] ?? '', `image ${IMAGE} is not on this node`);
  const start = await agent('start', { runDir, params });
  t.same(problems(start, 'image', [5]), [], `start: ${start.code} ${start.reasons[0] ?? ''}`, shown(start));
  t.same(await leftovers(name, runDir, join(runDir, 'none')), [], 'nothing started');
});
