/**
 * resource-agents' ocf-tester against the installed agent: metadata as nobody validated against ra-api-1.dtd,
 * validate-all, start/stop/monitor including double start and stop, probes.
 */
import t from 'tap';
import { execa } from 'execa';
import { INSTALLED_AGENT, Scratch, containerRecords, ensureInstalled, exactly, ocfEnv, requireRootAndTools } from './fixtures/agent.js';

const scratch = new Scratch('tester');

t.before(async () => {
  requireRootAndTools(['ocf-tester', 'xmllint', 'unshare', 'nsenter', 'setsid', 'ip', 'hostname']);
  t.comment(await ensureInstalled());
});
t.teardown(() => scratch.cleanup());

t.test('ocf-tester passes', async (t) => {
  const name = scratch.name();
  const [file, args] = exactly(ocfEnv({ runDir: scratch.runDir }),
    ['ocf-tester', '-n', 't', '-o', `name=${name}`, '-o', 'command=sleep 1000', INSTALLED_AGENT]);
  const r = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 120_000, all: true });
  t.equal(r.exitCode, 0, 'exit 0', { output: r.all });
  t.match(String(r.all), /passed all tests/, '"passed all tests"');
  t.notMatch(String(r.all), /\* rc=/, 'no failed step');
  t.same(containerRecords(scratch.runDir), [], 'it stopped what it started');
});
