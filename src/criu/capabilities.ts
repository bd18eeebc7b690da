/**
 * What CRIU can do on this node: `criu check` and the kernel features each migration type needs, plus the
 * network-lock method. Cached per boot and per CRIU binary (in /run, which a reboot clears), because every
 * `criu check` takes a while.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Criu } from './criu.js';
import type { NetworkLock } from './args.js';
import { readJson, writeJsonAtomic, ensurePrivateDir } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { which } from '../util/which.js';
import { detectLazyPipeProblem } from './pipe-limit.js';

export interface Capabilities {
  criuVersion: string | undefined;
  criuCheck: { ok: boolean; output: string };
  /** Soft-dirty page tracking: CRIU pre-copy (iterative migration). */
  memDirtyTrack: boolean;
  /** userfaultfd for non-cooperative processes: lazy (post-copy) migration. */
  uffdNoncoop: boolean;
  networkLock: NetworkLock;
  /** Why lazy pages could not be served from this node, if they could not. */
  lazyTransportProblem: string | undefined;
}

/** `nftablesLock`: whether this CRIU can lock with nftables (a `criu check`, cached with the rest). */
interface CacheEntry { key: string; capabilities: Capabilities; nftablesLock?: boolean }

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}


/**
 * CRIU defaults to iptables; where the iptables tools are missing (as on nftables-only hosts) nftables. Looked up
 * on every call: installing or removing the iptables package needs no reboot, and a lock method whose tools went
 * would fail the dump of a frozen container.
 */
function networkLock(nftablesLock: boolean): NetworkLock {
  return which('iptables-restore') === undefined && nftablesLock ? 'nftables' : 'iptables';
}

async function detect(criu: Criu): Promise<{ capabilities: Capabilities; nftablesLock: boolean }> {
  const [criuVersion, criuCheck, dirty, uffd, nft] = await Promise.all([
    criu.version(), criu.check(), criu.check('mem_dirty_track'), criu.check('uffd-noncoop'),
    criu.check('network_lock_nftables'),
  ]);
  return {
    capabilities: {
      criuVersion, criuCheck, memDirtyTrack: dirty.ok, uffdNoncoop: uffd.ok,
      networkLock: networkLock(nft.ok),
      lazyTransportProblem: detectLazyPipeProblem(),
    },
    nftablesLock: nft.ok,
  };
}

export async function capabilities(binary: string, fresh = false): Promise<Capabilities> {
  const criu = new Criu(binary);
  const key = `${bootId()}:${binary}`;
  const file = join(runDir(), `capabilities-${createHash('sha256').update(binary).digest('hex').slice(0, 12)}.json`);
  const cached = fresh ? undefined : readJson<CacheEntry>(file);
  // the pipe limit (a sysctl) and the iptables tools change without a reboot: read afresh even when the rest is cached
  if (cached?.key === key && cached.capabilities.criuCheck.ok && cached.nftablesLock !== undefined) {
    return { ...cached.capabilities, networkLock: networkLock(cached.nftablesLock), lazyTransportProblem: detectLazyPipeProblem() };
  }
  const found = await detect(criu);
  ensurePrivateDir(runDir());
  writeJsonAtomic(file, { key, ...found } satisfies CacheEntry);
  return found.capabilities;
}
