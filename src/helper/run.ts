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

function nodeFeatures(caps: Capabilities, dir: string): PeerFeatures {
  return {
    criuCheckOk: caps.criuCheck.ok, memDirtyTrack: caps.memDirtyTrack, uffdNoncoop: caps.uffdNoncoop,
    lazyTransportProblem: detectLazyPipeProblem(), memAvailableBytes: availableMemoryBytes(), dirFreeBytes: freeBytes(dir),
  };
}

export interface RunHelperOptions { listen: string; port: number; authkey: string; dir: string; maxBytes: number; criu: string }

export async function runHelper(o: RunHelperOptions): Promise<void> {
  const key = readAuthkey(o.authkey);
  ensurePrivateDir(o.dir);
  let caps: Capabilities | undefined;
  // criu check takes a while: answer health queries without features until it is done
  capabilities(o.criu).then((c) => { caps = c; }, (err) => logger.warning(`helper: cannot tell this node's CRIU features: ${err instanceof Error ? err.message : String(err)}`));
  const helper = await serve({
    features: () => (caps ? nodeFeatures(caps, o.dir) : undefined),
    checkCpu: (image) => checkCpuinfo(o.criu, image),
    addresses: o.listen.split(',').map((a) => a.trim()).filter(Boolean),
    port: o.port, key, dir: o.dir, maxBytes: o.maxBytes,
    node: await localNodeName(process.env),
    criuVersion: await new Criu(o.criu).version().catch(() => undefined),
  });
  process.stdout.write(`ferry helper listening on ${o.listen} port ${helper.ports.join(',')}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info('helper: stopping');
  await helper.close();
  await flushLogs();
}
