/** The local node's cluster name: what Pacemaker says, else `crm_node -n`, else the host name. */
import { hostname } from 'node:os';
import { run } from './run.js';

export async function localNodeName(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.OCF_RESKEY_CRM_meta_on_node) return env.OCF_RESKEY_CRM_meta_on_node;
  const r = await run('crm_node', ['-n'], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  const name = r?.exitCode === 0 ? r.stdout.trim() : '';
  return name || hostname();
}

/**
 * The other nodes of the cluster, full and Pacemaker Remote ones: crm_mon's node list (`crm_node -l` lists corosync's
 * members only, never a remote node), else `crm_node -l`; none when the cluster cannot be asked.
 */
export async function otherClusterNodes(localNode: string): Promise<string[]> {
  const mon = await run('crm_mon', ['-1', '--output-as=xml'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
  const fromMon = mon?.exitCode === 0 ? nodesOfCrmMon(mon.stdout) : [];
  if (fromMon.length) return fromMon.filter((n) => n !== localNode);
  const r = await run('crm_node', ['-l'], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  if (r?.exitCode !== 0) return [];
  return r.stdout.split('\n').map((line) => line.trim().split(/\s+/)[1] ?? '').filter((n) => n && n !== localNode);
}

/** Pure: the cluster's nodes, members and remote nodes (not ping nodes), from crm_mon's XML. */
export function nodesOfCrmMon(xml: string): string[] {
  const block = /<nodes>([\s\S]*?)<\/nodes>/.exec(xml)?.[1] ?? '';
  return [...block.matchAll(/<node\s[^>]*>/g)]
    .map((m) => m[0])
    .filter((tag) => /\stype="(member|remote)"/.test(tag))
    .map((tag) => /\sname="([^"]+)"/.exec(tag)?.[1] ?? '')
    .filter(Boolean);
}
