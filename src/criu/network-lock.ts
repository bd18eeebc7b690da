/**
 * CRIU blocks a container's traffic while it checkpoints TCP connections (an nftables table "inet CRIU-<run id>"
 * in the container's network namespace) and removes it when it finishes. A CRIU killed mid-dump leaves the
 * table behind and the container cut off; so may a restore (below). This removes such leftovers.
 */
import { run } from '../util/run.js';
import { logger } from '../util/log.js';

export function staleLockTables(nftListTables: string): string[] {
  return nftListTables.split('\n')
    .map((l) => /^table\s+(inet)\s+(CRIU-[A-Za-z0-9-]+)\s*$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}

export const INTERRUPTED_CHECKPOINT = 'left by an interrupted checkpoint';
/**
 * CRIU 3.17 saves the container's nftables ruleset with its own lock table in it, and its restore removes the
 * table named after the restoring run, not that one: the restored container keeps running, cut off, its TCP
 * connections timing out (seen between the guest lab's stock-kernel guests).
 */
export const RESTORED_WITH_RULESET = 'that the restore brought back with the container\'s ruleset (CRIU saved its own lock in the checkpoint)';

export async function releaseStaleNetworkLock(pid: number, why = INTERRUPTED_CHECKPOINT): Promise<void> {
  const netns = `--net=/proc/${pid}/ns/net`;
  const listed = await run('nsenter', [netns, 'nft', 'list', 'tables'], { allowFailure: true, timeoutMs: 5000 });
  if (listed.exitCode !== 0) return;
  for (const table of staleLockTables(listed.stdout)) {
    const [family, name] = table.split(' ') as [string, string];
    logger.warning(`removing CRIU network lock ${table} ${why}`);
    await run('nsenter', [netns, 'nft', 'delete', 'table', family, name], { allowFailure: true, timeoutMs: 5000 });
  }
}
