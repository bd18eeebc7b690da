/**
 * How long a TCP connection of this node has heard nothing, as the kernel keeps it (tcp_info, as `ss -ti` prints
 * it): "lastrcv:MS" since data last arrived, "lastack:MS" since the peer last acknowledged anything. A connection
 * that a cut link has silenced stays ESTABLISHED for about 15 minutes while TCP retransmits; this is how a reader
 * or a writer that has no timeout of its own (CRIU's lazy-pages and page server) is seen to starve.
 */
import { run } from './run.js';

export type Silence = 'lastrcv' | 'lastack';

/**
 * Milliseconds of `silence` on the established connection(s) matching `filter` (ss's own, e.g. "dst A dport = P"
 * or "src A sport = P"), the freshest one counting; undefined when there is none.
 */
export async function msOfSilence(silence: Silence, filter: readonly string[]): Promise<number | undefined> {
  const r = await run('ss', ['-H', '-t', '-i', '-n', 'state', 'established', ...filter], { allowFailure: true, timeoutMs: 5000 });
  return r.exitCode === 0 ? silenceIn(r.stdout, silence) : undefined;
}

/** The smallest value of `silence` among the connections `ss -ti` printed. Pure. */
export function silenceIn(ssOutput: string, silence: Silence): number | undefined {
  const values = [...ssOutput.matchAll(new RegExp(`\\b${silence}:(\\d+)\\b`, 'g'))].map((m) => Number(m[1]));
  return values.length ? Math.min(...values) : undefined;
}
