/** The CRIU the tests, the demo and the benchmarks use: $FERRY_TEST_CRIU (set by test/lab/prepare-host.sh) or what install-criu.sh provides. */
import { execa } from 'execa';
import { join } from 'node:path';
import { REPO } from './lab.js';

export async function criuForTests(): Promise<string> {
  if (process.env.FERRY_TEST_CRIU) return process.env.FERRY_TEST_CRIU;
  const r = await execa('sh', [join(REPO, 'test', 'lab', 'install-criu.sh')], { stdin: 'ignore' });
  return r.stdout.trim().split('\n').pop() ?? 'criu';
}

/** The kernel features of this machine that decide the migration types, as CRIU itself reports them. */
export interface CriuFeatures { memDirtyTrack: boolean; uffdNoncoop: boolean }

/**
 * Asks `criu check --feature` (as root) the same questions the agent asks (src/criu/capabilities.ts), so a test
 * expects what this machine's kernel can do instead of what the machine it was written on could: soft-dirty
 * tracking (iterative pre-copy) and non-cooperative userfaultfd (lazy).
 */
export async function criuFeatures(criu: string): Promise<CriuFeatures> {
  const has = async (feature: string) => (await execa(criu, ['check', '--feature', feature], { reject: false, stdin: 'ignore' })).exitCode === 0;
  const [memDirtyTrack, uffdNoncoop] = await Promise.all([has('mem_dirty_track'), has('uffd-noncoop')]);
  return { memDirtyTrack, uffdNoncoop };
}
