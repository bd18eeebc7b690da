/**
 * `ferry migrate <resource> <node>`: asks Pacemaker to move the resource (crm_resource --move), follows the
 * live migration, reports its downtime, and removes the temporary location constraint afterwards (a leftover
 * cli-prefer constraint would pin the resource and block failback) unless told to keep it.
 *
 * Run on the node where the container runs, it first makes migrate_to's own pre-checks (ferry check) and refuses
 * before asking Pacemaker for anything when one is fatal: a failed migrate_to makes Pacemaker stop the resource on
 * both nodes and start it again, so "refused, keeps running" is only true if the move is never asked for.
 */
import { clearResource, clusterIdle, failedActions, localNode, locate, moveResource, resolveContainerResource } from './pacemaker.js';
import { refused } from '../util/errors.js';
import { followPhase, PHASES, readRecord, readSummary } from './follow.js';
import { phaseBar, Progress } from './progress.js';

export interface MigrateOptions {
  resource: string;
  node: string;
  keepConstraint: boolean;
  timeoutS: number;
  /** A CPU mismatch with the target is not fatal (like ferry check --force). */
  forceCpu?: boolean;
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

export async function migrate(given: MigrateOptions, progress = new Progress()): Promise<MigrateOutcome> {
  // the resource id or the container's name: from here on, the id
  const resource = await resolveContainerResource(given.resource);
  const o = { ...given, resource: resource.id };
  const from = await locate(o.resource);
  const started = Date.now();
  const outcome = (ok: boolean, live: boolean, downtimeMs: number | undefined, failed: string[], message: string): MigrateOutcome =>
    ({ resource: o.resource, from, to: o.node, ok, live, downtimeMs, totalMs: Date.now() - started, failedActions: failed, message });
  if (from.length === 1 && from[0] === o.node) return outcome(true, false, undefined, [], `${o.resource} already runs on ${o.node}`);

  if (from.length === 1 && from[0] === await localNode()) {
    const { check } = await import('./check.js');
    const checked = await check(o.resource, o.node, o.forceCpu ?? false);
    const fatal = checked.findings.filter((f) => f.fatal);
    if (fatal.length) {
      throw refused(`not asking Pacemaker to move ${o.resource} to ${o.node}: ${fatal.map((f) => `${f.check}: ${f.detail}`).join('; ')}; `
        + `it keeps running on ${from[0]} (Pacemaker would stop and start it after a refused migrate_to; crm_resource --move does that if you want it)`);
    }
  }
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
