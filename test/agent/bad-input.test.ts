/**
 * Hostile and broken parameter values through the real executable, for EVERY parameter the metadata declares (the
 * list is read from `meta-data`, so a new parameter is covered without touching this file): wrong type, empty,
 * shell metacharacters, 100 kB, path traversal, control characters.
 *
 * validate-all and start must either refuse (2 or 6: one `ocf-exit-reason:` line naming the parameter, no stack
 * trace, nothing started) or, where the value is legitimately valid, accept it. A value validate-all accepts may
 * still make start fail for a stated reason: 5 (the value names something this node lacks, like a bridge), or 1
 * for the parameters that are shell commands by design (command, monitor_cmd: found as those whose longdesc says
 * "/bin/sh -c"), whose payload then runs inside the container and nowhere else. The payloads' marker files must
 * never appear from the agent itself, and nothing may be left running.
 */
import t from 'tap';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseStringPromise } from 'xml2js';
import {
  Scratch, agent, containerRecords, crashLines, ensureBuilt, pooled, remaining, requireRootAndTools, shown,
  type AgentResult,
} from './fixtures/agent.js';

const scratch = new Scratch('fuzz');
/**
 * Concurrent cases: each is two or three Node.js processes in a row; one more than the cores this machine gives us
 * keeps them busy without starving (3 on a 2-core machine), at most 8.
 */
const WIDTH = Math.min(8, availableParallelism() + 1);
/**
 * Bounds a start whose monitor_cmd never passes: the agent's deadline is 2 s before it (deadline.test.ts) and
 * start gives up on monitor_cmd 2 s before that, about 6 s in; a start that has nothing to wait for has the same
 * 8 s, room enough on a loaded machine running WIDTH cases at once.
 */
const START_TIMEOUT_MS = '10000';

interface Param { name: string; type: string; required: boolean; shell: boolean; path: boolean }

interface MetaParameter {
  $: { name: string; required?: string };
  longdesc?: { _?: string }[];
  content?: { $: { type: string; default?: string } }[];
}

async function declaredParameters(): Promise<Param[]> {
  const r = await agent('meta-data', { runDir: scratch.runDir });
  if (r.code !== 0) throw new Error(`meta-data failed: ${r.stderr}`);
  const xml = await parseStringPromise(r.stdout) as { 'resource-agent': { parameters: { parameter: MetaParameter[] }[] } };
  return (xml['resource-agent'].parameters[0]?.parameter ?? []).map((p) => {
    const longdesc = p.longdesc?.[0]?._ ?? '';
    return {
      name: p.$.name,
      type: p.content?.[0]?.$.type ?? 'string',
      required: p.$.required === '1',
      shell: /\/bin\/sh -c\b/.test(longdesc),
      path: /\b(absolute path|directory)\b/i.test(longdesc) || (p.content?.[0]?.$.default ?? '').startsWith('/'),
    };
  });
}

interface Case {
  param: Param;
  kind: string;
  value: string;
  dir: string;
  /** Unique to the case: its container name and command carry it. */
  tag: string;
  canary: string;
  touched: string;
  backticked: string;
}

function wrongType(type: string): string {
  if (type === 'integer') return 'twelve';
  if (type === 'boolean') return 'maybe';
  return '{"json":true}';
}

let caseSerial = 0;

function casesFor(param: Param): Case[] {
  const made: Case[] = [];
  const add = (kind: string, value: (c: Omit<Case, 'kind' | 'value'>) => string) => {
    caseSerial += 1;
    const tag = `${scratch.token}-c${String(caseSerial).padStart(4, '0')}`;
    const dir = scratch.subdir(`c${String(caseSerial).padStart(4, '0')}`);
    const base = { param, dir, tag, canary: join(dir, 'canary'), touched: join(dir, 'pwned'), backticked: join(dir, 'pwned-bt') };
    mkdirSync(base.canary);
    made.push({ ...base, kind, value: value(base) });
  };
  add(`wrong type ${JSON.stringify(wrongType(param.type))}`, () => wrongType(param.type));
  add('empty string', () => '');
  add('"; rm -rf"', (c) => `; rm -rf ${c.canary}`);
  add('"$(touch)"', (c) => `$(touch ${c.touched})`);
  add('backticks', (c) => `\`hostname > ${c.backticked}\``);
  add('100 kB', () => (param.type === 'integer' ? '9' : 'a').repeat(100 * 1024));
  add('"../../etc"', () => '../../etc');
  if (param.path) add('absolute path with ".."', () => '/var/../../etc/passwd');
  add('newline', () => 'ok\nOCF_RESKEY_name=evil');
  return made;
}

const runDirOf = (c: Case) => join(c.dir, 'run');

function paramsOf(c: Case): Record<string, string> {
  return { name: c.tag, command: `sleep 1000; : ${c.tag}`, [c.param.name]: c.value };
}

/** What is wrong with a run, whatever its outcome (empty when nothing is). */
function outputProblems(r: AgentResult): string[] {
  const problems: string[] = [];
  if (r.timedOut) problems.push('timed out');
  const crash = crashLines(r.stderr);
  if (crash.length) problems.push(`stack trace or Node error on stderr: ${crash.slice(0, 3).join(' / ')}`);
  if (r.code === 0 && r.reasons.length) problems.push(`exit 0 but an exit reason: ${r.reasons.join(' / ')}`);
  if (r.code !== 0 && r.reasons.length !== 1) problems.push(`${r.reasons.length} ocf-exit-reason lines, not 1`);
  // eslint-disable-next-line no-control-regex
  if (r.reasons.some((l) => /[\u0000-\u001f\u007f]/.test(l))) problems.push('control characters in the exit reason');
  return problems;
}

/** What the run left behind that it must not have. `inside` says the payload may have run inside a container. */
async function traceProblems(c: Case, inside: boolean): Promise<string[]> {
  const problems: string[] = [];
  if (!existsSync(c.canary)) problems.push(`${c.canary} was removed`);
  if (!inside && existsSync(c.touched)) problems.push(`${c.touched} was created`);
  if (existsSync(c.backticked)) {
    const host = readFileSync(c.backticked, 'utf8').trim();
    // run inside the container, hostname prints the container's name; anywhere else, the node's
    if (!inside || host !== c.tag) problems.push(`${c.backticked} was created, by a shell in UTS namespace "${host}"`);
  }
  const records = containerRecords(runDirOf(c));
  if (records.length) problems.push(`container records left: ${records.join(', ')}`);
  const running = await remaining(c.tag);
  if (running.length) problems.push(`processes of the container still running: ${running.join(', ')}`);
  return problems;
}

interface Outcome { validate: AgentResult; start: AgentResult; problems: { validate: string[]; start: string[] } }

async function runCase(c: Case): Promise<Outcome> {
  const runDir = runDirOf(c);
  const params = paramsOf(c);
  const validate = await agent('validate-all', { runDir, params });
  const v = outputProblems(validate);
  if (![0, 2, 6].includes(validate.code)) v.push(`exit ${validate.code}, not 0, 2 or 6`);
  if (validate.code !== 0 && !validate.reasons[0]?.includes(c.param.name)) v.push(`the reason does not name ${c.param.name}`);
  v.push(...await traceProblems(c, false));

  const start = await agent('start', { runDir, params, env: { OCF_RESKEY_CRM_meta_timeout: START_TIMEOUT_MS } });
  const s = outputProblems(start);
  if (validate.code !== 0) {
    if (start.code !== validate.code || start.reasons[0] !== validate.reasons[0]) {
      s.push(`validate-all refused it with ${validate.code} but start gave ${start.code}: ${start.reasons.join(' / ')}`);
    }
  } else if (start.code === 5) {
    if (!start.reasons[0]?.includes(c.param.name)) s.push(`exit 5 with a reason that does not name ${c.param.name}`);
  } else if (start.code === 1) {
    if (!c.param.shell) s.push(`exit 1 for a value of ${c.param.name} that validate-all accepted: ${start.reasons.join(' / ')}`);
  } else if (start.code !== 0) {
    s.push(`exit ${start.code} for a value validate-all accepted`);
  }
  if (start.code === 0) {
    const stop = await agent('stop', { runDir, params });
    if (stop.code !== 0) s.push(`stop after the accepted start gave ${stop.code}: ${stop.stderr}`);
  }
  s.push(...await traceProblems(c, c.param.shell));
  return { validate, start, problems: { validate: v, start: s } };
}

let params: Param[] = [];

t.before(async () => {
  requireRootAndTools(['unshare', 'nsenter', 'setsid', 'ip', 'hostname', 'sleep', 'touch']);
  t.comment(await ensureBuilt());
  params = await declaredParameters();
});
t.teardown(() => scratch.cleanup());

t.test('the metadata declares the parameters this test walks through', async (t) => {
  t.ok(params.length >= 20, `${params.length} parameters: ${params.map((p) => p.name).join(', ')}`);
  t.same(params.filter((p) => p.shell).map((p) => p.name).sort(), ['command', 'monitor_cmd'],
    'shell-command parameters (longdesc says /bin/sh -c)');
  t.same(params.filter((p) => p.required).map((p) => p.name), ['name'], 'required parameters');
  t.comment(`path parameters (also get an absolute path with ".."): ${params.filter((p) => p.path).map((p) => p.name).join(', ')}`);
});

t.test('every parameter, every bad value, through validate-all and start', async (t) => {
  // one pool for all cases, so the slow ones (a start waiting for monitor_cmd) overlap with the rest
  const cases = params.flatMap(casesFor);
  const outcomes = await pooled(cases.length, WIDTH, (i) => runCase(cases[i] as Case));
  const said = (r: AgentResult) => `${r.code}${r.reasons[0] ? `: ${r.reasons[0].slice(0, 140)}` : ''}`;
  for (const param of params) {
    t.test(`${param.name} (${param.type}${param.shell ? ', shell command by design' : ''})`, async (t) => {
      cases.forEach((c, i) => {
        if (c.param !== param) return;
        const o = outcomes[i] as Outcome;
        t.same(o.problems.validate, [], `${c.kind}: validate-all ${said(o.validate)}`, shown(o.validate));
        t.same(o.problems.start, [], `${c.kind}: start ${said(o.start)}`, shown(o.start));
      });
    });
  }
});
