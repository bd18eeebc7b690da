/** The local node's cluster name: what Pacemaker says, else `crm_node -n`, else the host name. */
import { hostname } from 'node:os';
import { run } from './run.js';

export async function localNodeName(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.OCF_RESKEY_CRM_meta_on_node) return env.OCF_RESKEY_CRM_meta_on_node;
  const r = await run('crm_node', ['-n'], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  const name = r?.exitCode === 0 ? r.stdout.trim() : '';
  return name || hostname();
}

/** The other nodes of the cluster (`crm_node -l`); none when the cluster cannot be asked. */
export async function otherClusterNodes(localNode: string): Promise<string[]> {
  const r = await run('crm_node', ['-l'], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  if (r?.exitCode !== 0) return [];
  return r.stdout.split('\n').map((line) => line.trim().split(/\s+/)[1] ?? '').filter((n) => n && n !== localNode);
}
