/** The containers this node runs, from the node-local records the drivers keep (`ferry status`). */
import { readdirSync } from 'node:fs';
import { readLocalRecord, recordsDir, type LocalRecord } from '../runtime/local-record.js';
import { isAlive } from '../util/proc.js';
import { join } from 'node:path';
import { readJson } from '../util/files.js';
import type { MigrationSummary } from './summary.js';

export interface StatusRow {
  name: string;
  state: 'running' | 'dead';
  pid: number;
  origin: LocalRecord['origin'];
  since: string;
  lastMigration: MigrationSummary | undefined;
}

function lastMigration(r: LocalRecord): MigrationSummary | undefined {
  if (!r.stateDir) return undefined;
  try {
    return readJson<MigrationSummary>(join(r.stateDir, r.name, 'last-migration.json'));
  } catch {
    return undefined;
  }
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
    .map((r) => ({ name: r.name, state: isAlive(r) ? 'running' : 'dead', pid: r.pid, origin: r.origin, since: r.since, lastMigration: lastMigration(r) }));
}
