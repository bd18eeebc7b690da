/**
 * The OCF metadata Pacemaker, pcs and crmsh read: every parameter and action of the tables, with the right
 * flags, and valid against resource-agents' own DTD and RELAX NG schema (as `crm_resource --show-metadata` and
 * `ocf-tester` expect).
 */
import t from 'tap';
import { execa } from 'execa';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStringPromise } from 'xml2js';
import { buildMetadata } from '../../src/ocf/metadata.js';
import { appliesTo, formerNames, PARAMS, type ParamName } from '../../src/settings/params.js';
import { ACTIONS } from '../../src/ocf/actions.js';

const DTD = '/usr/share/resource-agents/ra-api-1.dtd';
const RNG = '/usr/share/resource-agents/metadata.rng';

interface Described { _: string; $: { lang: string } }
interface XmlParameter {
  $: { name: string; required: string; unique: string };
  longdesc: Described[];
  shortdesc: Described[];
  content: { $: { type: string; default?: string } }[];
}
interface XmlAction { $: { name: string; timeout: string; interval?: string; depth?: string } }
interface XmlAgent {
  'resource-agent': {
    $: { name: string; version: string };
    version: string[];
    longdesc: Described[];
    shortdesc: Described[];
    parameters: { parameter: XmlParameter[] }[];
    actions: { action: XmlAction[] }[];
  };
}

async function parsed(): Promise<XmlAgent['resource-agent']> {
  return ((await parseStringPromise(buildMetadata())) as XmlAgent)['resource-agent'];
}

/** Runs xmllint on `xml` in a private directory that also holds ra-api-1.dtd (the DOCTYPE names it relatively). */
async function xmllint(xml: string, args: string[]): Promise<{ exitCode: number | undefined; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-meta-'));
  try {
    copyFileSync(DTD, join(dir, 'ra-api-1.dtd'));
    writeFileSync(join(dir, 'metadata.xml'), xml);
    const r = await execa('xmllint', [...args, 'metadata.xml'], { cwd: dir, reject: false });
    return { exitCode: r.exitCode, stderr: String(r.stderr) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('the agent is described as ocf:ferry:container with OCF 1.1', async (t) => {
  const agent = await parsed();
  t.equal(agent.$.name, 'container');
  t.match(agent.$.version, /^\d+\.\d+\.\d+$/);
  t.same(agent.version, ['1.1']);
  t.equal(agent.shortdesc[0]?.$.lang, 'en');
  t.ok((agent.longdesc[0]?._ ?? '').length > 200, 'a real long description');
});

t.test('every parameter of the table is listed, in order, with its flags, type and default', async (t) => {
  const all = (await parsed()).parameters[0]?.parameter ?? [];
  // each deprecated name right after the parameter it now is
  t.same(all.map((p) => p.$.name), Object.keys(PARAMS).flatMap((n) => [n, ...formerNames(n as ParamName)]));
  const params = all.filter((p) => p.$.name in PARAMS);
  for (const p of params) {
    const spec = PARAMS[p.$.name as keyof typeof PARAMS];
    t.equal(p.$.required, spec.required ? '1' : '0', `${p.$.name} required`);
    t.equal(p.$.unique, spec.unique ? '1' : '0', `${p.$.name} unique`);
    t.equal(p.content[0]?.$.type, spec.type, `${p.$.name} type`);
    t.equal(p.content[0]?.$.default, spec.defaultText, `${p.$.name} default`);
    const part = appliesTo(p.$.name as ParamName);
    const longdesc = spec.unit ? `${spec.longdesc} Unit: ${spec.unit}.` : spec.longdesc;
    t.equal(p.longdesc[0]?._, part ? `${longdesc} Used with ${part}.` : longdesc, `${p.$.name} longdesc survives XML escaping`);
    t.equal(p.shortdesc[0]?._, part ? `${spec.shortdesc} (${part})` : spec.shortdesc, `${p.$.name} shortdesc`);
  }
  const byName = new Map(params.map((p) => [p.$.name, p]));
  t.equal(byName.get('command')?.shortdesc[0]?._, 'Container init command (driver=native or podman)', 'a driver\'s parameter names its drivers');
  t.equal(byName.get('image')?.shortdesc[0]?._, 'Container image (driver=podman)', 'podman\'s parameter names its driver');
  t.equal(byName.get('drbd_resource')?.shortdesc[0]?._, 'DRBD resource holding the container (storage=drbd)', 'a storage kind\'s names its kind');
  t.equal(byName.get('name')?.$.required, '1', 'name is required');
  t.equal(byName.get('name')?.$.unique, '1', 'two resources cannot share a container name');
  t.equal(byName.get('stop_timeout')?.content[0]?.$.type, 'integer');
  t.equal(byName.get('keep_images')?.content[0]?.$.default, 'false');
  t.equal(byName.get('command')?.content[0]?.$.default, undefined, 'no default attribute for optional parameters');
});

t.test('every action is listed with its timeout; monitor with interval and depth', async (t) => {
  const actions = (await parsed()).actions[0]?.action ?? [];
  t.same(actions.map((a) => a.$.name), ACTIONS.map((a) => a.name));
  for (const spec of ACTIONS) {
    const a = actions.find((x) => x.$.name === spec.name);
    t.equal(a?.$.timeout, `${spec.timeoutS}s`, `${spec.name} timeout`);
    t.equal(a?.$.interval, spec.intervalS === undefined ? undefined : `${spec.intervalS}s`, `${spec.name} interval`);
  }
  const names = actions.map((a) => a.$.name);
  for (const needed of ['start', 'stop', 'monitor', 'migrate_to', 'migrate_from', 'meta-data', 'validate-all']) {
    t.ok(names.includes(needed), `Pacemaker needs ${needed} (live migration needs migrate_to and migrate_from)`);
  }
  const monitor = actions.find((a) => a.$.name === 'monitor');
  t.match(monitor?.$.interval, /^[1-9]\d*s$/, 'monitor has a non-zero interval');
  t.equal(monitor?.$.depth, '0');
});

t.test('the metadata is valid against resource-agents\' ra-api-1.dtd (xmllint --valid)', async (t) => {
  const ok = await xmllint(buildMetadata(), ['--noout', '--valid']);
  t.equal(ok.exitCode, 0, ok.stderr);
  const broken = buildMetadata().replace(/<actions>[\s\S]*<\/actions>\n/, '');
  const bad = await xmllint(broken, ['--noout', '--valid']);
  t.not(bad.exitCode, 0, 'the same check refuses metadata without actions');
  t.match(bad.stderr, /does not follow the DTD/);
});

t.test('the metadata is valid against resource-agents\' metadata.rng (xmllint --relaxng)', async (t) => {
  const ok = await xmllint(buildMetadata(), ['--noout', '--relaxng', RNG]);
  t.equal(ok.exitCode, 0, ok.stderr);
  const broken = buildMetadata().replace('type="integer"', 'type="float"');
  const bad = await xmllint(broken, ['--noout', '--relaxng', RNG]);
  t.not(bad.exitCode, 0, 'the same check refuses a content type the schema does not know');
  t.match(bad.stderr, /fails to validate/);
});
