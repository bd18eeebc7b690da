/**
 * What the source learns about the target before freezing anything, through the target's helper: which network
 * reaches it (net/choose-network.ts), and what the target can do (CRIU features, memory, room). Without a helper
 * (no authkey, none running) the migration can still be simple over shared storage: the view says why it is blind.
 */
import { readAuthkey } from '../helper/authkey.js';
import type { PeerFeatures } from '../helper/protocol.js';
import type { Peer } from '../helper/client.js';
import { chooseNetwork, type NetworkChoice } from '../net/choose-network.js';
import type { NodeFeatures } from './plan.js';
import type { EngineContext } from './context.js';

export interface PeerView {
  target: string;
  choice: NetworkChoice | undefined;
  /** Why the target's helper could not be asked, when it could not. */
  problem: string | undefined;
  /** The target's helper at the address it answered on, for further questions; undefined when none answered. */
  helper?: Peer | undefined;
}

export async function reachPeer(ctx: EngineContext, target: string): Promise<PeerView> {
  let key: Buffer;
  try {
    key = readAuthkey(ctx.config.authkey);
  } catch (err) {
    return { target, choice: undefined, problem: err instanceof Error ? err.message : String(err) };
  }
  const { config } = ctx;
  const identity = { port: config.helper_port, key, identity: ctx.localNode };
  const choice = await chooseNetwork(target, config.migration_network_suffix, config.migration_address, config.require_migration_network, identity);
  const d = choice.decision;
  const helper = choice.peerHealth && d.ok ? { ...identity, host: d.address } : undefined;
  return { target, choice, problem: choice.peerHealth ? undefined : `the helper of ${target} does not answer`, helper };
}

export function peerFeatures(view: PeerView | undefined): PeerFeatures | undefined {
  return view?.choice?.peerHealth?.node_features;
}

/** What the node pair can do: both nodes must have a feature; a lazy transport problem on either side counts. */
export function pairFeatures(local: NodeFeatures, peer: PeerFeatures | undefined, target: string): NodeFeatures {
  if (!peer) return local;
  const problems = [local.lazyTransportProblem, peer.lazyTransportProblem && `on ${target}: ${peer.lazyTransportProblem}`].filter(Boolean);
  return {
    memDirtyTrack: local.memDirtyTrack && peer.memDirtyTrack,
    uffdNoncoop: local.uffdNoncoop && peer.uffdNoncoop,
    lazyTransportProblem: problems.length ? problems.join('; ') : undefined,
  };
}
