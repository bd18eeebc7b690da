/**
 * After a restore the container's address answers from another port of the L2 segment: a gratuitous ARP
 * (as Virtuozzo sends) updates switches and neighbours at once instead of when their caches expire.
 */
import { run } from '../util/run.js';
import { which } from '../util/which.js';
import { logger } from '../util/log.js';

export async function announceAddress(pid: number, address: string): Promise<void> {
  if (address.includes(':')) return; // IPv6 neighbours re-learn through unsolicited NA, which the kernel sends on link up
  if (!which('arping')) {
    logger.warning(`arping not found: not announcing ${address} (install iputils-arping)`);
    return;
  }
  const r = await run('nsenter', [`--net=/proc/${pid}/ns/net`, 'arping', '-U', '-c', '1', '-I', 'eth0', address],
    { allowFailure: true, timeoutMs: 3000 });
  if (r.exitCode !== 0 && r.exitCode !== 1) logger.warning(`gratuitous ARP for ${address} failed: ${r.stderr.trim()}`);
  else logger.info(`announced ${address} with gratuitous ARP`);
}
