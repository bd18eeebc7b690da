/** Probing the candidates of migration-address.ts: resolve (the system resolver, /etc/hosts first), route, helper. */
import { lookup } from 'node:dns/promises';
import { run } from '../util/run.js';
import { logger } from '../util/log.js';
import { health, type Peer } from '../helper/client.js';
import type { HealthAnswer } from '../helper/protocol.js';
import { candidates, decide, type Candidate, type Decision, type Probe } from './migration-address.js';

async function routeDevice(address: string): Promise<string | undefined> {
  const r = await run('ip', ['-j', 'route', 'get', address], { allowFailure: true, timeoutMs: 5000 });
  if (r.exitCode !== 0) return undefined;
  return (JSON.parse(r.stdout) as { dev?: string }[])[0]?.dev;
}

async function defaultDevice(): Promise<string | undefined> {
  const r = await run('ip', ['-j', 'route', 'show', 'default'], { allowFailure: true, timeoutMs: 5000 });
  if (r.exitCode !== 0 || !r.stdout.trim()) return undefined;
  return (JSON.parse(r.stdout) as { dev?: string }[])[0]?.dev;
}

export interface NetworkChoice { decision: Decision; peerHealth: HealthAnswer | undefined; rttMs: number | undefined }

export async function chooseNetwork(peer: string, suffixes: readonly string[], explicit: string | undefined, require: boolean,
  helper: Omit<Peer, 'host'>): Promise<NetworkChoice> {
  const defaultDev = await defaultDevice();
  const probes: Probe[] = [];
  let peerHealth: HealthAnswer | undefined;
  let rttMs: number | undefined;
  for (const candidate of candidates(peer, suffixes, explicit) as Candidate[]) {
    const probe: Probe = { candidate, defaultDevice: defaultDev };
    try {
      probe.address = (await lookup(candidate.name)).address;
    } catch (err) {
      probe.resolveProblem = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    if (probe.address) {
      probe.device = await routeDevice(probe.address);
      const started = Date.now();
      try {
        peerHealth = await health({ ...helper, host: probe.address, timeoutMs: helper.timeoutMs ?? 2000 });
        rttMs = Date.now() - started;
      } catch (err) {
        probe.helperProblem = err instanceof Error ? err.message : String(err);
      }
    }
    probes.push(probe);
    if (decide(probes, require).ok) break;
  }
  const decision = decide(probes, require);
  logger.info(decision.ok
    ? `migration traffic to ${peer} goes to ${decision.name} (${decision.address}): ${decision.why.join('; ')}`
    : `no migration path to ${peer}: ${decision.reason}`);
  return { decision, peerHealth, rttMs };
}
