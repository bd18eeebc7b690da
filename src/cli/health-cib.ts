/**
 * The cluster's health as `ferry health` needs it, from two documents: the CIB (`cibadmin --query`: the strategy,
 * permanent and transient node attributes) and crm_mon's XML (which nodes are online and not in standby).
 * crm_mon hides `#`-attributes, so they come from the CIB. Pure: strings in, a HealthView out.
 */
import { parseStringPromise } from 'xml2js';
import { parseStrategy, type HealthView, type NodeHealth } from './health-decision.js';

interface XmlNode { $?: Record<string, string>; [child: string]: unknown }

function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const c = node?.[name];
  return Array.isArray(c) ? (c as XmlNode[]) : [];
}

/** Every nvpair of every instance_attributes (or cluster_property_set) below `node`, later sets winning. */
function nvpairs(node: XmlNode | undefined, setName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of children(node, setName)) {
    for (const nv of children(set, 'nvpair')) {
      if (nv.$?.name !== undefined && nv.$?.value !== undefined) out[nv.$.name] = nv.$.value;
    }
  }
  return out;
}

const NOT_AVAILABLE: readonly [string, string][] = [
  ['unclean', 'unclean'], ['shutdown', 'shutting down'], ['pending', 'pending'], ['standby', 'standby'], ['maintenance', 'maintenance'],
];

export async function parseHealthView(cibXml: string, crmMonXml: string): Promise<HealthView> {
  const cib = ((await parseStringPromise(cibXml)) as { cib?: XmlNode }).cib;
  const configuration = children(cib, 'configuration')[0];
  const options = nvpairs(children(configuration, 'crm_config')[0], 'cluster_property_set');
  const permanent = new Map<string, Record<string, string>>();
  for (const n of children(children(configuration, 'nodes')[0], 'node')) {
    if (n.$?.uname) permanent.set(n.$.uname, nvpairs(n, 'instance_attributes'));
  }
  const transient = new Map<string, Record<string, string>>();
  for (const s of children(children(cib, 'status')[0], 'node_state')) {
    if (s.$?.uname) transient.set(s.$.uname, nvpairs(children(s, 'transient_attributes')[0], 'instance_attributes'));
  }
  const mon = ((await parseStringPromise(crmMonXml)) as { 'pacemaker-result'?: XmlNode })['pacemaker-result'];
  const nodes: NodeHealth[] = [];
  for (const n of children(children(mon, 'nodes')[0], 'node')) {
    const a = n.$ ?? {};
    const name = a.name;
    if (!name) continue;
    const why = a.online !== 'true' ? 'offline' : NOT_AVAILABLE.find(([k]) => a[k] === 'true')?.[1];
    nodes.push({ name, available: why === undefined, unavailable: why, permanent: permanent.get(name) ?? {}, transient: transient.get(name) ?? {} });
  }
  return { strategy: parseStrategy(options['node-health-strategy']), options, nodes };
}
