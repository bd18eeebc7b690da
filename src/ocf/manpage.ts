/** Builds the roff man page ocf_ferry_container(7), in the layout of resource-agents' ocf_heartbeat_*(7). */
import { ACTIONS } from './actions.js';
import { AGENT_LONGDESC, AGENT_NAME, AGENT_SHORTDESC, AGENT_VERSION } from './description.js';
import { formerNames, PARTS, type ParamName } from '../settings/params.js';
import { deprecatedLongdesc, fullLongdesc } from './metadata.js';

/** Escapes text for roff: backslashes, leading dots/quotes, hyphens that must stay ASCII. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

function paragraphs(text: string): string {
  return text.split('\n\n').map((p) => `.PP\n${roff(p)}`).join('\n');
}

function item(title: string, body: string): string {
  return `.PP\n\\fB${roff(title)}\\fR\n.RS 4\n${body}\n.RE`;
}

export function buildManPage(): string {
  const full = `ocf_ferry_${AGENT_NAME}`;
  // one subsection per part of the table: every container's, each driver's and storage kind's, the migration's
  const params = PARTS.flatMap((part) => [
    `.SS "${roff(part.appliesTo ? `${part.title} (${part.appliesTo})` : part.title)}"`,
    ...Object.entries(part.params).flatMap(([name, p]) => {
      const facts = [p.unique ? 'unique' : undefined, p.required ? 'required' : 'optional', p.type, p.unit,
        p.defaultText !== undefined ? `default "${p.defaultText}"` : 'no default'].filter(Boolean).join(', ');
      return [item(name, `${roff(fullLongdesc(p))}\n.sp\n(${roff(facts)})`),
        ...formerNames(name as ParamName).map((old) => item(old, roff(deprecatedLongdesc(old, name))))];
    }),
  ]);
  const actions = ACTIONS.map((a) => {
    const interval = a.intervalS !== undefined ? ` Suggested interval: ${a.intervalS}s.` : '';
    const vd = a.virtualDomainS !== undefined ? ` (VirtualDomain: ${a.virtualDomainS}s)` : '';
    return item(a.name, roff(`${a.summary} Suggested minimum timeout: ${a.timeoutS}s${vd}.${interval} ${a.timeoutWhy}`));
  });
  return [
    `.TH "${full.toUpperCase()}" "7" "" "ferry ${AGENT_VERSION}" "OCF resource agents"`,
    '.nh',
    '.ad l',
    '.SH "NAME"',
    `${roff(full)} \\- ${roff(AGENT_SHORTDESC)}`,
    '.SH "SYNOPSIS"',
    `\\fB${AGENT_NAME}\\fR [${ACTIONS.map((a) => roff(a.name)).join(' | ')} | usage]`,
    '.SH "DESCRIPTION"',
    paragraphs(AGENT_LONGDESC),
    '.SH "SUPPORTED PARAMETERS"',
    ...params,
    '.SH "SUPPORTED ACTIONS"',
    '.PP',
    'This resource agent supports the following actions (operations):',
    ...actions,
    '.SH "EXIT CODES"',
    '.PP',
    roff('0 success; 1 generic error; 2 invalid arguments on this node; 3 unsupported action; 5 a required program '
      + 'is missing on this node; 6 the configuration is invalid; 7 not running. A non-zero exit writes a one-line '
      + 'reason prefixed by "ocf-exit-reason:" on stderr, which Pacemaker shows in crm_mon.'),
    '.SH "EXAMPLE CRM SHELL"',
    '.PP',
    'The following is an example configuration for a container resource using the \\fBcrm\\fR(8) shell:',
    '.sp',
    '.RS 4',
    '.nf',
    roff(`primitive web1 ocf:ferry:${AGENT_NAME} \\`),
    roff('  params name=web1 command="/usr/bin/python3 /srv/web1/server.py" \\'),
    roff('    ip=10.78.0.50/24 bridge=br0 state_dir=/srv/shared/ferry \\'),
    roff('  meta allow-migrate=true \\'),
    roff('  op monitor interval=10s timeout=20s \\'),
    roff('  op migrate_to timeout=300s op migrate_from timeout=300s'),
    '.fi',
    '.RE',
    '.SH "SEE ALSO"',
    '.PP',
    '\\fBferry\\fR(8), \\fBcriu\\fR(8), \\fBcrm_resource\\fR(8)',
    '',
  ].join('\n');
}
