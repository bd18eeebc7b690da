/**
 * `ferry check <resource> <target>`: the source-side pre-migration checks, as migrate_to would make them, without
 * freezing anything (like vzmigrate --check-only). Run it on the node where the container runs.
 */
import { parseConfig } from '../ocf/config.js';
import { loadDriver } from '../runtime/driver.js';
import { engineContext } from '../migrate/context.js';
import { precheck, type Finding } from '../migrate/precheck.js';
import { peerChecks } from '../migrate/peer-checks.js';
import { reachPeer } from '../migrate/peer.js';
import { Deadline } from '../util/deadline.js';
import { containerResources, localNode } from './pacemaker.js';

export interface CheckOutcome { resource: string; node: string; target: string; ok: boolean; findings: Finding[] }

/** `force`: a CPU mismatch is reported, not fatal (like pmigrate -f; the resource's cpu_check_force does the same). */
export async function check(resourceId: string, target: string, force = false): Promise<CheckOutcome> {
  const resource = (await containerResources()).find((r) => r.id === resourceId);
  if (!resource) throw new Error(`${resourceId} is not an ocf:ferry:container resource in this cluster`);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(resource.params)) env[`OCF_RESKEY_${k}`] = v;
  const parsed = parseConfig(env);
  if (!parsed.config) throw new Error(`${resourceId}: ${parsed.errors.map((e) => e.message).join('; ')}`);
  if (!parsed.config.state_dir) throw new Error(`${resourceId} has no state_dir: it cannot be migrated live`);
  const node = await localNode();
  const ctx = engineContext(parsed.config, node, await loadDriver(parsed.config), Deadline.in(60_000));
  const peer = await reachPeer(ctx, target);
  const { findings, caps } = await precheck(ctx, target, peer, force);
  findings.push(...peerChecks(parsed.config, node, peer, caps?.criuVersion));
  return { resource: resourceId, node, target, ok: !findings.some((f) => f.fatal), findings };
}

export function formatCheck(o: CheckOutcome): string {
  const lines = o.findings.map((f) => `${f.ok ? 'ok  ' : f.fatal ? 'FAIL' : 'warn'}  ${f.check.padEnd(18)} ${f.detail}`);
  return `${lines.join('\n')}\n${o.ok ? `${o.resource} can migrate from ${o.node} to ${o.target}` : `${o.resource} cannot migrate now`}\n`;
}
