/**
 * `ferry check <resource> <target>`: the source-side pre-migration checks, as migrate_to would make them, without
 * freezing anything (like vzmigrate --check-only). Run it on the node where the container runs.
 */
import { parseSettings } from '../settings/config.js';
import type { Finding } from '../migrate/finding.js';
import { Deadline } from '../util/deadline.js';
import { badRequest, misconfigured } from '../util/errors.js';
import { localNode, resolveContainerResource, resourceDefaults } from './pacemaker.js';

export type CheckVerdict = 'can migrate' | 'would refuse' | 'could not check';

export interface CheckOutcome {
  resource: string; container: string; node: string; target: string; ok: boolean; verdict: CheckVerdict; findings: Finding[];
}

/** Pure: a check that says no outweighs one that could not be made; either stops migrate_to. */
export function checkVerdict(findings: readonly Finding[]): CheckVerdict {
  const fatal = findings.filter((f) => f.fatal);
  if (fatal.some((f) => !f.unknown)) return 'would refuse';
  return fatal.length ? 'could not check' : 'can migrate';
}

/**
 * Pure: whether Pacemaker keeps the copy a migration restored when a node is lost mid-migration. With the default
 * multiple-active=stop_start it stops the container everywhere and starts it afresh (state lost: test/e2e/
 * fencing.test.ts); stop_unexpected stops only the copy on the lost node. A warning: the move itself is fine.
 */
export function multipleActiveFinding(meta: Readonly<Record<string, string>>, defaults: Readonly<Record<string, string>>): Finding {
  const own = meta['multiple-active'];
  const value = own ?? defaults['multiple-active'] ?? 'stop_start';
  const where = own !== undefined ? 'set on the resource' : defaults['multiple-active'] !== undefined ? 'from rsc_defaults' : 'Pacemaker\'s default';
  return value === 'stop_unexpected'
    ? { check: 'multiple-active', ok: true, fatal: false, kind: 'refused', detail: `stop_unexpected (${where}): a node lost mid-migration does not restart the restored copy` }
    : { check: 'multiple-active', ok: false, fatal: false, kind: 'refused',
      detail: `${value} (${where}): if a node is lost mid-migration, Pacemaker restarts the container, losing its state; set meta multiple-active=stop_unexpected` };
}

/**
 * `resource`: the Pacemaker resource id or the container's name. `force`: a CPU mismatch or an uncompared CPU is
 * reported, not fatal (like pmigrate -f; the resource's cpu_check_force does the same).
 */
export async function check(resourceOrName: string, target: string, force = false): Promise<CheckOutcome> {
  if (!target) throw badRequest('no target node given');
  const resource = await resolveContainerResource(resourceOrName);
  const resourceId = resource.id;
  const parsed = parseSettings(resource.params);
  if (!parsed.config) throw misconfigured(`${resourceId}: ${parsed.errors.map((e) => e.message).join('; ')}`);
  if (!parsed.config.state_dir) throw misconfigured(`${resourceId} has no state_dir: it cannot be migrated live`);
  const node = await localNode();
  const { containerHere } = await import('../migrate/container.js');
  const { checkMigration } = await import('../migrate/check.js');
  const findings = [
    ...await checkMigration(await containerHere(parsed.config, async () => node, Deadline.in(60_000)), target, force),
    multipleActiveFinding(resource.meta, await resourceDefaults()),
  ];
  const verdict = checkVerdict(findings);
  return { resource: resourceId, container: resource.name, node, target, ok: verdict === 'can migrate', verdict, findings };
}

export function formatCheck(o: CheckOutcome): string {
  const lines = o.findings.map((f) => `${f.ok ? 'ok  ' : f.fatal ? (f.unknown ? '??  ' : 'FAIL') : 'warn'}  ${f.check.padEnd(18)} ${f.detail}`);
  const last = {
    'can migrate': `${o.resource} can migrate from ${o.node} to ${o.target}`,
    'would refuse': `${o.resource} cannot migrate now`,
    'could not check': `${o.resource}: not every check could be made (??), and migrate_to would refuse for that`,
  }[o.verdict];
  return `${lines.join('\n')}\n${last}\n`;
}
