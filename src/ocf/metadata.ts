/** Builds the OCF metadata XML from the parameter and action tables (valid against resource-agents' ra-api-1.dtd). */
import { Builder } from 'xml2js';
import { ACTIONS } from './actions.js';
import { AGENT_LONGDESC, AGENT_NAME, AGENT_SHORTDESC, AGENT_VERSION, OCF_VERSION } from './description.js';
import { appliesTo, formerNames, PARAMS, type ParamName } from '../settings/params.js';
import type { Param } from '../settings/param-types.js';

function describe(longdesc: string, shortdesc: string): Record<string, unknown> {
  return {
    longdesc: { $: { lang: 'en' }, _: longdesc },
    shortdesc: { $: { lang: 'en' }, _: shortdesc },
  };
}

/** A driver's or a storage kind's parameter says so: crm ra info lists them all together. */
function describeParam(name: ParamName, longdesc: string, shortdesc: string): Record<string, unknown> {
  const part = appliesTo(name);
  return part ? describe(`${longdesc} Used with ${part}.`, `${shortdesc} (${part})`) : describe(longdesc, shortdesc);
}

/** The longdesc as admins read it: a number's unit said in words, whatever the prose around it. */
export function fullLongdesc(p: Param<unknown>): string {
  return p.unit ? `${p.longdesc} Unit: ${p.unit}.` : p.longdesc;
}

/** What a deprecated name says: the ra-api-1.dtd that ocf-tester checks against has no <deprecated> element. */
export function deprecatedLongdesc(old: string, now: string): string {
  return `Deprecated name of ${now}, still accepted with a warning in the log; setting both to different values is an error. Use ${now}.`;
}

export function buildMetadata(): string {
  const parameters = Object.entries(PARAMS).flatMap(([name, p]) => [{
    $: { name, required: p.required ? '1' : '0', unique: p.unique ? '1' : '0' },
    ...describeParam(name as ParamName, fullLongdesc(p), p.shortdesc),
    content: { $: { type: p.type, ...(p.defaultText !== undefined ? { default: p.defaultText } : {}) } },
  }, ...formerNames(name as ParamName).map((old) => ({
    $: { name: old, required: '0', unique: '0' },
    ...describe(deprecatedLongdesc(old, name), `Deprecated: use ${name}`),
    content: { $: { type: p.type } },
  }))]);
  const actions = ACTIONS.map((a) => ({
    $: {
      name: a.name,
      timeout: `${a.timeoutS}s`,
      ...(a.intervalS !== undefined ? { interval: `${a.intervalS}s` } : {}),
      ...(a.depth !== undefined ? { depth: String(a.depth) } : {}),
    },
  }));
  const builder = new Builder({
    rootName: 'resource-agent',
    // no encoding declaration: crmsh parses the text with lxml, which refuses one on an already decoded string
    xmldec: { version: '1.0' },
    doctype: { sysID: 'ra-api-1.dtd' },
    renderOpts: { pretty: true, indent: '  ', newline: '\n' },
  });
  return `${builder.buildObject({
    $: { name: AGENT_NAME, version: AGENT_VERSION },
    version: OCF_VERSION,
    ...describe(AGENT_LONGDESC, AGENT_SHORTDESC),
    parameters: { parameter: parameters },
    actions: { action: actions },
  })}\n`;
}
