/** Builds the OCF metadata XML from the parameter and action tables (valid against resource-agents' ra-api-1.dtd). */
import { Builder } from 'xml2js';
import { ACTIONS } from './actions.js';
import { AGENT_LONGDESC, AGENT_NAME, AGENT_SHORTDESC, AGENT_VERSION, OCF_VERSION } from './description.js';
import { PARAMS } from './params.js';

function describe(longdesc: string, shortdesc: string): Record<string, unknown> {
  return {
    longdesc: { $: { lang: 'en' }, _: longdesc },
    shortdesc: { $: { lang: 'en' }, _: shortdesc },
  };
}

export function buildMetadata(): string {
  const parameters = Object.entries(PARAMS).map(([name, p]) => ({
    $: { name, required: p.required ? '1' : '0', unique: p.unique ? '1' : '0' },
    ...describe(p.longdesc, p.shortdesc),
    content: { $: { type: p.type, ...(p.defaultText !== undefined ? { default: p.defaultText } : {}) } },
  }));
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
