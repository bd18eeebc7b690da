/** The CRIU the tests, the demo and the benchmarks use: $FERRY_TEST_CRIU (set by test/lab/prepare-host.sh) or what install-criu.sh provides. */
import { execa } from 'execa';
import { join } from 'node:path';
import { REPO } from './lab.js';

export async function criuForTests(): Promise<string> {
  if (process.env.FERRY_TEST_CRIU) return process.env.FERRY_TEST_CRIU;
  const r = await execa('sh', [join(REPO, 'test', 'lab', 'install-criu.sh')], { stdin: 'ignore' });
  return r.stdout.trim().split('\n').pop() ?? 'criu';
}
