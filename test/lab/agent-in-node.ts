/** Running the agent inside a lab node the way Pacemaker would (OCF_RESKEY_* environment), timed. */
import { join } from 'node:path';
import { nodeExec, nodeName, REPO, type NodeId } from './lab.js';

export const AGENT = join(REPO, 'ocf', 'ferry', 'container');

export interface AgentRun { code: number; ms: number; stdout: string; stderr: string }

export async function agent(node: NodeId, action: string, params: Record<string, string>,
  meta: Record<string, string> = {}, timeoutMs = 600_000): Promise<AgentRun> {
  const env: Record<string, string> = { OCF_RESOURCE_INSTANCE: params.name ?? 'lab', OCF_ROOT: '/usr/lib/ocf' };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  for (const [k, v] of Object.entries({ on_node: nodeName(node), ...meta })) env[`OCF_RESKEY_CRM_meta_${k}`] = v;
  const started = performance.now();
  const r = await nodeExec(node, AGENT, [action], { env, timeoutMs });
  return { code: r.exitCode, ms: performance.now() - started, stdout: r.stdout, stderr: r.stderr };
}

export async function mustAgent(node: NodeId, action: string, params: Record<string, string>, meta: Record<string, string> = {}): Promise<AgentRun> {
  const r = await agent(node, action, params, meta);
  if (r.code !== 0) throw new Error(`${action} on ${nodeName(node)} exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return r;
}

export async function migrate(from: NodeId, to: NodeId, params: Record<string, string>): Promise<{ out: AgentRun; in: AgentRun; totalMs: number }> {
  const meta = { migrate_source: nodeName(from), migrate_target: nodeName(to) };
  const started = performance.now();
  const out = await mustAgent(from, 'migrate_to', params, meta);
  const inn = await mustAgent(to, 'migrate_from', params, meta);
  return { out, in: inn, totalMs: performance.now() - started };
}
