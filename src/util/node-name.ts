/** The local node's cluster name: what Pacemaker says, else `crm_node -n`, else the host name. */
import { hostname } from 'node:os';
import { run } from './run.js';

export async function localNodeName(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.OCF_RESKEY_CRM_meta_on_node) return env.OCF_RESKEY_CRM_meta_on_node;
  const r = await run('crm_node', ['-n'], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  const name = r?.exitCode === 0 ? r.stdout.trim() : '';
  return name || hostname();
}
