/**
 * Lazy (post-copy) migration streams pages through CRIU's page server, which needs pipes larger than the
 * default 1 MiB limit. Root raises that limit itself only with CAP_SYS_RESOURCE; where root lacks it (some
 * containers and sandboxes) and fs.pipe-max-size is low, the lazy dump dies mid-way ("page-pipe: tee: ...
 * Operation not permitted") after CRIU has unfrozen the source. Detected before anything is frozen.
 */
import { readFileSync } from 'node:fs';

/** The pipe size a lazy dump needed on the lab machine (CRIU 4.2.1), rounded up to what the fix sets. */
export const LAZY_PIPE_BYTES = 4 * 1024 * 1024;
const CAP_SYS_RESOURCE = 24;

export function hasCapability(statusText: string, cap: number): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText);
  return m ? (BigInt(`0x${m[1]}`) >> BigInt(cap)) % 2n === 1n : false;
}

/** Pure: the problem with this node's pipe limit for lazy migration, or undefined when there is none. */
export function lazyPipeProblem(pipeMaxSize: number, capSysResource: boolean): string | undefined {
  if (capSysResource || pipeMaxSize >= LAZY_PIPE_BYTES) return undefined;
  return `pipes of ${LAZY_PIPE_BYTES} bytes for CRIU's page server (fs.pipe-max-size is ${pipeMaxSize} and root lacks `
    + `CAP_SYS_RESOURCE to exceed it: run sysctl -w fs.pipe-max-size=${LAZY_PIPE_BYTES} on both nodes)`;
}

export function detectLazyPipeProblem(): string | undefined {
  try {
    const max = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim());
    return lazyPipeProblem(max, hasCapability(readFileSync('/proc/self/status', 'utf8'), CAP_SYS_RESOURCE));
  } catch {
    return undefined;
  }
}
