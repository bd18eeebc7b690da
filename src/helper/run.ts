/** `ferry serve` as a long-running service: start the helper, stop cleanly on SIGTERM/SIGINT. */
import { readAuthkey } from './authkey.js';
import { serve } from './server.js';
import { ensurePrivateDir } from '../util/files.js';
import { logger, flushLogs } from '../util/log.js';
import { localNodeName } from '../util/node-name.js';
import { Criu } from '../criu/criu.js';
import { capabilities, type Capabilities } from '../criu/capabilities.js';
import { checkCpuinfo } from '../criu/cpuinfo.js';
import { detectLazyPipeProblem } from '../criu/pipe-limit.js';
import { freeBytes } from '../storage/state-store.js';
import { availableMemoryBytes } from '../util/memory.js';
import type { PeerFeatures } from './protocol.js';
import type { CheckpointKeeper, ContainerWatch, ImageLookup } from './keeper.js';
import { keepVerdicts } from './verdicts.js';
import { deriveListen, explicitListen } from './listen.js';

function nodeFeatures(caps: Capabilities, dir: string): PeerFeatures {
  return {
    criuCheckOk: caps.criuCheck.ok, memDirtyTrack: caps.memDirtyTrack, uffdNoncoop: caps.uffdNoncoop,
    lazyTransportProblem: detectLazyPipeProblem(), memAvailableBytes: availableMemoryBytes(), dirFreeBytes: freeBytes(dir),
  };
}

export interface RunHelperOptions {
  /** Comma-separated addresses; unset: derived from the node's names (listen.ts). */
  listen: string | undefined;
  /** Migration-network suffixes, as the resources' migration_network_suffix. */
  mnSuffixes: readonly string[];
  /** This node's cluster name; unset: corosync's entry for this machine, else crm_node -n, else the host name. */
  node: string | undefined;
  port: number; authkey: string; dir: string; maxBytes: number; criu: string;
  /** The engine's answers to peers' claims on the checkpoints kept in dir. */
  checkpoints: CheckpointKeeper;
  /** The engine's look-up of container images on this node, for peers' pre-migration checks. */
  images: ImageLookup;
  /** The engine's judgement of the containers running here, kept as verdicts for the agent's fast monitor. */
  watch: ContainerWatch;
}

/** Where to listen: as given, or this node's own addresses under the names its peers use for it. */
async function listenAddresses(o: RunHelperOptions): Promise<{ addresses: string[]; node?: string }> {
  if (o.listen !== undefined) return { addresses: explicitListen(o.listen) };
  const derived = await deriveListen(o.node, o.mnSuffixes, () => localNodeName(process.env));
  for (const note of derived.notes) logger.notice(`helper: ${note}`);
  logger.info(`helper: listening on ${derived.addresses.join(', ')}, the addresses of ${derived.node}${o.mnSuffixes.map((s) => ` / ${derived.node}${s}`).join('')}`);
  return derived;
}

export async function runHelper(o: RunHelperOptions): Promise<void> {
  const { addresses, node } = await listenAddresses(o);
  const key = readAuthkey(o.authkey);
  ensurePrivateDir(o.dir);
  let caps: Capabilities | undefined;
  // criu check takes a while: answer health queries without features until it is done
  capabilities(o.criu).then((c) => { caps = c; }, (err) => logger.warning(`helper: cannot tell this node's CRIU features: ${err instanceof Error ? err.message : String(err)}`));
  const helper = await serve({
    features: () => (caps ? nodeFeatures(caps, o.dir) : undefined),
    checkCpu: (image) => checkCpuinfo(o.criu, image),
    checkpoints: o.checkpoints,
    images: o.images,
    addresses,
    port: o.port, key, dir: o.dir, maxBytes: o.maxBytes,
    node: o.node ?? node ?? await localNodeName(process.env),
    criuVersion: await new Criu(o.criu).version().catch(() => undefined),
  });
  const verdicts = keepVerdicts(o.watch);
  process.stdout.write(`ferry helper listening on ${addresses.join(',')} port ${helper.ports.join(',')}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info('helper: stopping');
  await verdicts.close();
  await helper.close();
  await flushLogs();
}
