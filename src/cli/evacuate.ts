/**
 * `ferry evacuate [node]`: drains a node the way Pacemaker intends (standby, or node health red with
 * node-health-strategy=migrate-on-red), follows every container until none is left there, and prints a table.
 * Pacemaker decides where each container goes and how many move at once (migration-limit).
 */
import { clusterIdle, containerResources, locate, localNode, setHealth, setStandby, type ContainerResource } from './pacemaker.js';
import { readSummary } from './follow.js';
import { Progress } from './progress.js';

export interface EvacuateOptions {
  node: string | undefined;
  via: 'standby' | 'health';
  timeoutS: number;
  json: boolean;
}

export interface EvacuatedRow {
  resource: string;
  from: string;
  to: string;
  live: boolean;
  downtimeMs: number | undefined;
}

export interface EvacuateOutcome { node: string; ok: boolean; rows: EvacuatedRow[]; totalMs: number; left: string[] }

export function formatEvacuation(o: EvacuateOutcome): string {
  const header = ['RESOURCE', 'FROM', 'TO', 'HOW', 'DOWNTIME'];
  const lines = o.rows.map((r) => [r.resource, r.from, r.to || '-', r.live ? 'live' : 'restart', r.downtimeMs === undefined ? '-' : `${r.downtimeMs} ms`]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const table = [header, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
  const tail = o.left.length ? `still on ${o.node}: ${o.left.join(', ')}` : `${o.node} holds no containers (${(o.totalMs / 1000).toFixed(1)} s)`;
  return `${table}\n${tail}\n`;
}

export async function evacuate(o: EvacuateOptions, progress = new Progress()): Promise<EvacuateOutcome> {
  const node = o.node ?? await localNode();
  const all = await containerResources();
  const here: ContainerResource[] = [];
  for (const r of all) if ((await locate(r.id)).includes(node)) here.push(r);
  const before = new Map(here.map((r) => [r.id, readSummary(r.stateDir, r.name)?.id]));
  const started = Date.now();
  if (o.via === 'standby') await setStandby(node, true);
  else await setHealth(node, 'red', 'ferry evacuate');
  let left: string[] = here.map((r) => r.id);
  const placed = new Map<string, string>();
  while (Date.now() - started < o.timeoutS * 1000) {
    left = [];
    for (const r of here) {
      const where = await locate(r.id);
      if (where.includes(node)) left.push(r.id);
      else if (where[0]) placed.set(r.id, where[0]);
    }
    if (!o.json) progress.update(`evacuating ${node}: ${here.length - left.length}/${here.length} moved`, `${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (left.length === 0 && (await clusterIdle())) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const rows = here.map((r) => {
    const s = readSummary(r.stateDir, r.name);
    const live = s !== undefined && s.id !== before.get(r.id) && s.source === node;
    return { resource: r.id, from: node, to: placed.get(r.id) ?? '', live, downtimeMs: live ? s.downtimeMs : undefined };
  });
  const outcome = { node, ok: left.length === 0, rows, totalMs: Date.now() - started, left };
  if (!o.json) progress.finish(formatEvacuation(outcome).trimEnd());
  return outcome;
}
