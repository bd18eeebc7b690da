/** Following a migration from the outside: the shared migration record and Pacemaker's view, as phases. */
import { join } from 'node:path';
import { readJson } from '../util/files.js';
import type { MigrationRecord } from '../migrate/record.js';
import type { MigrationSummary } from '../migrate/summary.js';

export const PHASES = ['requested', 'checkpointing', 'checkpointed', 'restoring', 'restored', 'settled'] as const;
export type FollowPhase = (typeof PHASES)[number];

/** Pure: where a migration stands, from the record (if it belongs to this migration) and where Pacemaker runs it. */
export function followPhase(record: MigrationRecord | undefined, sinceMs: number, locations: string[], target: string, idle: boolean): FollowPhase {
  const current = record && record.dumpStartedAt >= sinceMs - 1000 ? record : undefined;
  if (locations.length === 1 && locations[0] === target && idle) return 'settled';
  if (!current) return 'requested';
  switch (current.phase) {
    case 'dumping': return 'checkpointing';
    case 'dumped': return 'checkpointed';
    case 'restoring': return 'restoring';
    case 'restored': return 'restored';
    case 'aborted': return 'requested';
  }
}

export function recordPath(stateDir: string, name: string): string {
  return join(stateDir, name, 'migration.json');
}

export function readRecord(stateDir: string | undefined, name: string): MigrationRecord | undefined {
  if (!stateDir) return undefined;
  try {
    return readJson<MigrationRecord>(recordPath(stateDir, name));
  } catch {
    return undefined;
  }
}

export function readSummary(stateDir: string | undefined, name: string): MigrationSummary | undefined {
  if (!stateDir) return undefined;
  try {
    return readJson<MigrationSummary>(join(stateDir, name, 'last-migration.json'));
  } catch {
    return undefined;
  }
}
