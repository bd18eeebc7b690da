/** `ferry status`: the engine's list of the containers on this node, as a table. */
import type { MigrationSummary } from '../migrate/summary.js';
import type { StatusRow } from '../migrate/local-status.js';

import { localStatus } from '../migrate/local-status.js';
import { FerryError } from '../util/errors.js';
import { resolveContainerResource } from './pacemaker.js';

export { localStatus, type StatusRow } from '../migrate/local-status.js';

/**
 * `ferry status [NAME]`: NAME is the container's name or its Pacemaker resource id. A container known here needs no
 * cluster; otherwise the CIB says which container the resource runs. Where the cluster cannot be asked, NAME is taken
 * as a container name; a NAME the CIB does not know is a bad request.
 */
export async function statusOf(nameOrResource: string | undefined): Promise<StatusRow[]> {
  if (nameOrResource === undefined) return localStatus();
  const here = localStatus(nameOrResource);
  if (here.length) return here;
  let container: string;
  try {
    container = (await resolveContainerResource(nameOrResource)).name;
  } catch (err) {
    if (err instanceof FerryError) throw err;
    return [];
  }
  return localStatus(container);
}

export function formatStatus(rows: readonly StatusRow[]): string {
  if (rows.length === 0) return 'no containers on this node\n';
  const header = ['NAME', 'STATE', 'PID', 'ORIGIN', 'SINCE', 'LAST-MIGRATION'];
  const migration = (m: MigrationSummary | undefined) => (m ? `${m.source}->${m.target}:${m.type}:${m.downtimeMs ?? '?'}ms` : '-');
  const lines = rows.map((r) => [r.name, r.state, String(r.pid), r.origin, r.since, migration(r.lastMigration)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [header, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}
