/**
 * The pre-migration checks on their own, freezing nothing (like vzmigrate --check-only): the source-side findings
 * migrate_to would make, and the cross-node ones (CRIU versions, clocks) from the target's helper.
 */
import type { Finding } from './finding.js';
import type { ContainerHere } from './container.js';
import { requireMovable } from './validate.js';

/** `forceCpu`: a CPU mismatch is reported, not fatal (like pmigrate -f; the resource's cpu_check_force does the same). */
export async function checkMigration(here: ContainerHere, target: string, forceCpu: boolean): Promise<Finding[]> {
  await requireMovable(here);
  const { engineContext } = await import('./context.js');
  const { reachPeer } = await import('./peer.js');
  const { precheck } = await import('./precheck.js');
  const { peerChecks } = await import('./peer-checks.js');
  const node = await here.localNode();
  const ctx = engineContext(here.config, node, here.driver, here.deadline);
  const peer = await reachPeer(ctx, target);
  const { findings, caps } = await precheck(ctx, target, peer, forceCpu);
  // precheck already reports a migration network that require_migration_network refuses
  return [...findings, ...peerChecks(here.config, node, peer, caps?.criuVersion).filter((f) => !findings.some((g) => g.check === f.check))];
}
