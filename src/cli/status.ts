/** `ferry status`: the containers this node runs, from the agent's node-local records. */
import { readdirSync } from 'node:fs';
import { readLocalRecord, recordsDir, type LocalRecord } from '../runtime/local-record.js';
import { isAlive } from '../util/proc.js';

export interface StatusRow {
  name: string;
  state: 'running' | 'dead';
  pid: number;
  origin: LocalRecord['origin'];
  since: string;
}

export function localStatus(filter?: string): StatusRow[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(recordsDir());
  } catch { /* nothing has run here yet */ }
  return entries
    .filter((f) => f.endsWith('.json'))
    .map((f) => readLocalRecord(f.slice(0, -'.json'.length)))
    .filter((r): r is LocalRecord => r !== undefined && (filter === undefined || r.name === filter))
    .map((r) => ({ name: r.name, state: isAlive(r) ? 'running' : 'dead', pid: r.pid, origin: r.origin, since: r.since }));
}

export function formatStatus(rows: readonly StatusRow[]): string {
  if (rows.length === 0) return 'no containers on this node\n';
  const header = ['NAME', 'STATE', 'PID', 'ORIGIN', 'SINCE'];
  const lines = rows.map((r) => [r.name, r.state, String(r.pid), r.origin, r.since]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [header, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}
