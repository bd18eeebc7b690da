/**
 * Checks that need the peer, for `ferry check`: which network reaches it, whether its CRIU matches ours, whether
 * the clocks agree. Made through the peer's helper (`ferry serve`); without a helper they are reported, not guessed.
 */
import type { Config } from '../settings/params.js';
import type { Finding } from './finding.js';
import type { PeerView } from './peer.js';

/** Clocks further apart than this make migration figures and timeouts misleading (the seeds recommend NTP). */
export const CLOCK_SKEW_WARN_MS = 500;

export function peerChecks(config: Config, localNode: string, peer: PeerView, localCriu: string | undefined): Finding[] {
  const findings: Finding[] = [];
  const { target, choice } = peer;
  const add = (check: string, ok: boolean, detail: string, fatal = false) => findings.push({ check, ok, fatal, detail, kind: 'refused' });
  if (!choice) {
    add('peer helper', false, `cannot check ${target} through its helper: ${peer.problem ?? '?'}`);
    return findings;
  }
  const d = choice.decision;
  add('migration network', d.ok, d.ok ? `${d.name} (${d.address}, ${d.kind}): ${d.why.join('; ')}` : d.reason, !d.ok && config.require_migration_network);
  const h = choice.peerHealth;
  if (h) {
    add('peer CRIU', h.criuVersion === localCriu, `${target} has CRIU ${h.criuVersion ?? '?'}, this node ${localCriu ?? '?'}`, false);
    const skew = Math.abs(h.time + (choice.rttMs ?? 0) / 2 - Date.now());
    add('clock skew', skew <= CLOCK_SKEW_WARN_MS, `${Math.round(skew)} ms between ${localNode} and ${target}${skew > CLOCK_SKEW_WARN_MS ? ': run NTP/chrony on every node' : ''}`);
  }
  return findings;
}
