/**
 * `ferry migrate <resource> <node>`: asks Pacemaker to move the resource (crm_resource --move), follows the
 * live migration, reports its downtime, and removes the temporary location constraint afterwards (a leftover
 * cli-prefer constraint would pin the resource and block failback) unless told to keep it.
 */
import { clearResource, clusterIdle, containerResources, failedActions, locate, moveResource } from './pacemaker.js';
import { followPhase, PHASES, readRecord, readSummary } from './follow.js';
import { phaseBar, Progress } from './progress.js';

export interface MigrateOptions {
  resource: string;
  node: string;
  keepConstraint: boolean;
  timeoutS: number;
  json: boolean;
}

export interface MigrateOutcome {
  resource: string;
  from: string[];
  to: string;
  ok: boolean;
  live: boolean;
  downtimeMs: number | undefined;
  totalMs: number;
  failedActions: string[];
  message: string;
}

export async function migrate(o: MigrateOptions, progress = new Progress()): Promise<MigrateOutcome> {
  const resource = (await containerResources()).find((r) => r.id === o.resource);
  if (!resource) throw new Error(`${o.resource} is not an ocf:ferry:container resource in this cluster`);
  const from = await locate(o.resource);
  const started = Date.now();
  const outcome = (ok: boolean, live: boolean, downtimeMs: number | undefined, failed: string[], message: string): MigrateOutcome =>
    ({ resource: o.resource, from, to: o.node, ok, live, downtimeMs, totalMs: Date.now() - started, failedActions: failed, message });
  if (from.length === 1 && from[0] === o.node) return outcome(true, false, undefined, [], `${o.resource} already runs on ${o.node}`);

  const before = readSummary(resource.stateDir, resource.name)?.id;
  await moveResource(o.resource, o.node);
  let phase = PHASES[0] as string;
  try {
    for (;;) {
      const locations = await locate(o.resource);
      const current = followPhase(readRecord(resource.stateDir, resource.name), started, locations, o.node, await clusterIdle());
      phase = current;
      const index = PHASES.indexOf(current);
      if (!o.json) progress.update(`${o.resource} ${from.join(',') || '(stopped)'} -> ${o.node} ${phaseBar(index, PHASES.length - 1)} ${current}`, `${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (current === 'settled') break;
      if (Date.now() - started > o.timeoutS * 1000) throw new Error(`${o.resource} did not settle on ${o.node} within ${o.timeoutS} s (last phase: ${phase})`);
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    if (!o.keepConstraint) await clearResource(o.resource);
  }
  const summary = readSummary(resource.stateDir, resource.name);
  const live = summary !== undefined && summary.id !== before && summary.target === o.node;
  const failed = await failedActions();
  const message = live
    ? `${o.resource} moved live ${summary.source} -> ${summary.target} (${summary.type}): downtime ${summary.downtimeMs ?? '?'} ms, `
      + `${((summary.bytesWritten ?? 0) / 1048576).toFixed(1)} MiB of memory, ${((Date.now() - started) / 1000).toFixed(1)} s in all`
    : `${o.resource} now runs on ${o.node}, but not through a live migration (Pacemaker stopped and started it)`;
  if (!o.json) progress.finish(message + (o.keepConstraint ? ` (constraint cli-prefer-${o.resource} kept)` : ''));
  return outcome(true, live, live ? summary.downtimeMs : undefined, failed, message);
}
