/** Running the agent inside a lab node, the way Pacemaker would (OCF_RESKEY_* environment), timed. */
import { execa } from 'execa';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

export const REPO = packageRoot();
export const LAB_SCRIPT = join(REPO, 'test', 'lab', 'lab.sh');
export const LAB_DIR = process.env.FERRY_LAB_DIR ?? '/tmp/ferry-lab';
export const AGENT = join(REPO, 'ocf', 'ferry', 'container');

export type Node = 1 | 2;
export const nodeName = (n: Node) => `node${n}`;

export interface AgentRun { code: number; ms: number; stderr: string }

export async function lab(...args: string[]): Promise<string> {
  const r = await execa('sh', [LAB_SCRIPT, ...args], { reject: false, timeout: 180_000 });
  if (r.exitCode !== 0) throw new Error(`lab.sh ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export async function nodeRun(node: Node, cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await execa('sh', [LAB_SCRIPT, 'exec', String(node), cmd, ...args], { reject: false, timeout: 600_000 });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export async function agent(node: Node, action: string, params: Record<string, string>, meta: Record<string, string> = {}): Promise<AgentRun> {
  const env = [
    ...Object.entries(params).map(([k, v]) => `OCF_RESKEY_${k}=${v}`),
    ...Object.entries({ on_node: nodeName(node), ...meta }).map(([k, v]) => `OCF_RESKEY_CRM_meta_${k}=${v}`),
    `OCF_RESOURCE_INSTANCE=${params.name ?? 'bench'}`,
  ];
  const started = performance.now();
  const r = await nodeRun(node, 'env', [...env, AGENT, action]);
  return { code: r.code, ms: performance.now() - started, stderr: r.stderr };
}

export async function migrate(from: Node, to: Node, params: Record<string, string>): Promise<{ to: AgentRun; from: AgentRun; totalMs: number }> {
  const meta = { migrate_source: nodeName(from), migrate_target: nodeName(to) };
  const started = performance.now();
  const out = await agent(from, 'migrate_to', params, meta);
  if (out.code !== 0) throw new Error(`migrate_to failed: ${out.stderr}`);
  const inn = await agent(to, 'migrate_from', params, meta);
  if (inn.code !== 0) throw new Error(`migrate_from failed: ${inn.stderr}`);
  return { to: out, from: inn, totalMs: performance.now() - started };
}
