/**
 * Choosing where migration traffic to a peer goes: its dedicated migration-network name (NODE.mn, the suffix
 * inserted before the first dot of the node name, as VirtualDomain does), else its plain node name (the
 * back-channel). A migration-network address only counts when it is routed through a local interface other than
 * the default route's (so a wildcard DNS answering every name cannot win) and the peer's helper answers on it.
 * Pure: the probing is in choose-network.ts.
 */
import { withSuffix } from '../util/node-suffix.js';

export { withSuffix };

export interface Candidate { name: string; kind: 'explicit' | 'migration' | 'back-channel' }

export function candidates(peer: string, suffixes: readonly string[], explicit: string | undefined): Candidate[] {
  if (explicit) return [{ name: explicit.replace(/%n/g, peer), kind: 'explicit' }];
  return [...suffixes.map((s) => ({ name: withSuffix(peer, s), kind: 'migration' as const })), { name: peer, kind: 'back-channel' }];
}

export interface Probe {
  candidate: Candidate;
  address?: string | undefined;
  /** Local interface the kernel would route the address through. */
  device?: string | undefined;
  /** Interface of the default route, if there is one. */
  defaultDevice?: string | undefined;
  /** Undefined when the helper answered; otherwise why it did not (or why it was not asked). */
  helperProblem?: string | undefined;
  resolveProblem?: string | undefined;
}

export type Decision =
  | { ok: true; address: string; name: string; kind: Candidate['kind']; why: string[] }
  | { ok: false; reason: string; why: string[] };

/** Why a probed migration-network candidate is not usable, or undefined when it is. */
export function rejection(p: Probe): string | undefined {
  if (p.resolveProblem || !p.address) return `${p.candidate.name} does not resolve${p.resolveProblem ? ` (${p.resolveProblem})` : ''}`;
  if (p.candidate.kind === 'migration') {
    if (!p.device) return `${p.candidate.name} (${p.address}) is not routed through any local interface`;
    if (p.device === 'lo') return `${p.candidate.name} (${p.address}) is a local address`;
    if (p.defaultDevice && p.device === p.defaultDevice) {
      return `${p.candidate.name} (${p.address}) is routed through the default route's interface ${p.device}, not a dedicated link`;
    }
  }
  if (p.helperProblem) return `${p.candidate.name} (${p.address}): the peer's helper does not answer (${p.helperProblem})`;
  return undefined;
}

/** Takes the first usable candidate in order; `requireMigrationNetwork` forbids ending on the back-channel. */
export function decide(probes: readonly Probe[], requireMigrationNetwork: boolean): Decision {
  const why: string[] = [];
  for (const p of probes) {
    const problem = rejection(p);
    if (problem) { why.push(problem); continue; }
    if (p.candidate.kind === 'back-channel' && requireMigrationNetwork) {
      return { ok: false, reason: `no migration network to the peer is usable and require_migration_network=true (${why.join('; ')})`, why };
    }
    why.push(`${p.candidate.name} (${p.address}) ${p.candidate.kind === 'back-channel' ? 'is the back-channel' : `via ${p.device}`}: helper answers`);
    return { ok: true, address: p.address as string, name: p.candidate.name, kind: p.candidate.kind, why };
  }
  return { ok: false, reason: `the peer is not reachable for migration: ${why.join('; ')}`, why };
}
