/** driver=podman's pure parts: its command lines, run_opts' checks, and podman's outputs as recorded in the lab. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSettings } from '../../src/settings/config.js';
import { splitRunOpts } from '../../src/settings/parts/podman.js';
import { checkpointArgs, containerUlimits, holdRuleset, parseHardLimits, restoreArgs, runArgs, stopArgs } from '../../src/runtime/podman/args.js';
import { dumpStatsOf, podmanError, parseContainerInspect, parseImageId, parseStats, saysMissing } from '../../src/runtime/podman/output.js';
import { describeSummary, summarize } from '../../src/migrate/summary.js';
import type { MigrationRecord } from '../../src/migrate/record.js';
import { PODMAN_LIMITS } from '../../src/runtime/podman/podman-driver.js';
import type { Config } from '../../src/settings/params.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'podman');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function config(raw: Record<string, string>): Config {
  const r = parseSettings({ name: 'web1', driver: 'podman', image: 'localhost/ferry-rootfs:latest', ...raw });
  if (!r.config) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}
const problems = (raw: Record<string, string>) => parseSettings({ name: 'web1', driver: 'podman', ...raw }).errors.map((e) => e.message);

t.test('image is required with driver=podman, command is not', async (t) => {
  t.same(problems({}), ['parameter image: is required with driver=podman']);
  t.same(problems({ image: 'localhost/web1:latest' }), []);
  t.same(problems({ image: 'sha256:703c7d4acd5e28ffc0bf412952dedd4cc7fb7e236deaa488df8170edeb4f4bf8' }), []);
  for (const bad of ['../etc/passwd', 'web1; rm -rf /', '$(id)', '-rm', 'a/../b']) {
    t.match(problems({ image: bad }).join(), /parameter image: .* is not an image name or ID/, bad);
  }
});

t.test('run_opts: split at spaces, never a shell', async (t) => {
  t.same(splitRunOpts('--memory 256m  --cpus=1 -e A=b'), ['--memory', '256m', '--cpus=1', '-e', 'A=b']);
  t.same(splitRunOpts('-m256m --ulimit core=0:0'), ['-m256m', '--ulimit', 'core=0:0']);
  for (const bad of ['--memory 256m; reboot', '--env A=$(id)', '--env A=`id`', '--memory 1g | tee', '--env "A=b c"', "--env 'A'", '--label a>b', '--env A=~']) {
    t.throws(() => splitRunOpts(bad), /shell metacharacters/, bad);
  }
});

t.test('run_opts: options Ferry owns are refused with the reason', async (t) => {
  const cases: [string, RegExp][] = [
    ['--network host', /--network is not allowed in run_opts: Ferry makes the container's network namespace/],
    ['--network=bridge', /--network is not allowed/], ['--net host', /--net is not allowed/],
    ['--name other', /--name is not allowed.*name parameter/], ['-d', /-d \(--detach\) is not allowed/],
    ['-dit', /-d \(--detach\)/], ['--rm', /--rm is not allowed/], ['--restart=always', /--restart is not allowed.*Pacemaker/],
    ['-p 80:80', /-p \(--publish\)/], ['--pid=host', /--pid is not allowed/], ['-t', /-t \(--tty\)/],
    ['--pod p1', /--pod is not allowed/], ['--ip 10.0.0.1', /--ip is not allowed/], ['--mac-address 02:00:00:00:00:01', /--mac-address/],
  ];
  for (const [raw, reason] of cases) t.throws(() => splitRunOpts(raw), reason, raw);
  t.throws(() => splitRunOpts('-v /srv/../etc:/etc'), /contains a "\.\." path component/);
  t.throws(() => splitRunOpts('--volume=/srv:/srv/../x'), /"\.\." path component/);
  t.throws(() => splitRunOpts('localhost/other:latest'), /is not an option/);
  t.same(splitRunOpts('-m256m'), ['-m256m'], 'a short option with its value is not a cluster of flags');
});

t.test('run_opts refusals come out of the parameter table as misconfigurations naming run_opts', async (t) => {
  t.match(problems({ image: 'x', run_opts: '--network host' }).join(), /^parameter run_opts: --network is not allowed/);
  t.match(problems({ image: 'x', run_opts: '--memory 1g;id' }).join(), /^parameter run_opts: contains shell metacharacters \(;\)/);
});

t.test('podman run: detached, named, in Ferry\'s netns, ulimits, the admin\'s options, the image, the command', async (t) => {
  const c = config({ run_opts: '--memory 256m', ip: '10.78.0.50/24', bridge: 'br0' });
  t.same(runArgs(c, { nofile: 20000, nproc: 32768 }, '/run/ferry/podman/criu.conf'), [
    'run', '--detach', '--pull', 'never', '--name', 'web1', '--network', 'ns:/run/netns/ferry-web1',
    '--annotation', 'org.criu.config=/run/ferry/podman/criu.conf',
    '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', '--memory', '256m', 'localhost/ferry-rootfs:latest',
  ]);
  const withCommand = config({ command: 'exec python3 /srv/x.py' });
  t.same(runArgs(withCommand, { nofile: 1, nproc: 2 }, '/c').slice(-4), ['localhost/ferry-rootfs:latest', '/bin/sh', '-c', 'exec python3 /srv/x.py']);
  const ownNproc = config({ run_opts: '--ulimit nproc=100:100' });
  t.same(runArgs(ownNproc, { nofile: 7, nproc: 8 }, '/c').filter((a, i, all) => all[i - 1] === '--ulimit'), ['nofile=7:7', 'nproc=100:100'], 'run_opts\' nproc replaces Ferry\'s');
});

t.test('ulimits: the hard limits, nproc at most 32768', async (t) => {
  const limits = [
    'Limit                     Soft Limit           Hard Limit           Units',
    'Max processes             96362                96362                processes',
    'Max open files            20000                20000                files',
  ].join('\n');
  t.same(parseHardLimits(limits), { nofile: 20000, nproc: 96362 });
  t.same(containerUlimits(parseHardLimits(limits)), { nofile: 20000, nproc: 32768 });
  t.same(containerUlimits(parseHardLimits('Max open files  1024 unlimited files\nMax processes 10 100 processes')), { nofile: 1048576, nproc: 100 });
  t.same(parseHardLimits(readFileSync('/proc/self/limits', 'utf8')).nofile > 0, true, 'this process\'s own limits parse');
});

t.test('checkpoint, restore, stop', async (t) => {
  t.same(checkpointArgs('web1', '/s/x.tar'), ['container', 'checkpoint', '--tcp-established', '--print-stats', '--export=/s/x.tar', 'web1']);
  t.same(restoreArgs('/s/x.tar'), ['container', 'restore', '--tcp-established', '--print-stats', '--import=/s/x.tar']);
  t.same(stopArgs('web1', 10), ['stop', '--time', '10', 'web1']);
  t.match(holdRuleset(), /table inet ferry-hold \{\n {2}chain in \{ type filter hook input priority -400; policy drop; \}\n {2}chain out/);
});

t.test('podman\'s outputs, recorded', async (t) => {
  const c = parseContainerInspect(fixture('container-inspect-running.json'));
  t.equal(c.status, 'running');
  t.ok(c.pid > 0);
  t.equal(c.imageId, '703c7d4acd5e28ffc0bf412952dedd4cc7fb7e236deaa488df8170edeb4f4bf8');
  t.match(c.staticDir, /\/overlay-containers\/[0-9a-f]{64}\/userdata$/);
  t.equal(parseImageId(fixture('image-inspect.json')), '703c7d4acd5e28ffc0bf412952dedd4cc7fb7e236deaa488df8170edeb4f4bf8');
  t.ok(saysMissing(fixture('image-inspect-missing.stderr')));
  t.ok(saysMissing(fixture('container-inspect-missing.stderr')));
  t.notOk(saysMissing('Error: database is locked'));
  t.same(parseStats(fixture('checkpoint-stats.json'), 'checkpoint'), { podmanUs: 362024, runtimeUs: 200132, criuUs: 78070, pages: 2079 });
  t.same(parseStats(`e95bd0216af6\n${fixture('restore-stats.json')}`, 'restore'), { podmanUs: 428013, runtimeUs: 210111, criuUs: 153427, pages: 2079 });
  t.same(parseStats('not json', 'restore'), { podmanUs: undefined, runtimeUs: undefined, criuUs: undefined, pages: undefined });
  t.throws(() => parseContainerInspect('[]'), /no object/);
});

t.test('podman cannot pre-copy nor restore lazily, and says why', async (t) => {
  t.match(PODMAN_LIMITS.precopy, /pre-copy/);
  t.match(PODMAN_LIMITS.lazy, /lazy/);
});

t.test('the migration summary has podman\'s dump figures (--print-stats), not "? pages, frozen ?"', async (t) => {
  const dumpStats = dumpStatsOf(parseStats(fixture('checkpoint-stats.json'), 'checkpoint'));
  t.match(dumpStats, { frozenTimeUs: 78070, pagesWritten: 2079 });
  const record = {
    id: '20261202-000000-x', name: 'pod1', source: 'node1', target: 'node2', type: 'simple', phase: 'restored',
    dumpStartedAt: 1000, dumpedAt: 1400, restoreStartedAt: 1450, restoredAt: 1950, restoredOn: 'node2', dumpStats,
    restoreStats: { pagesRestored: 2079, restoreTimeUs: 153427, forkingTimeUs: undefined },
  } as unknown as MigrationRecord;
  const text = describeSummary(summarize(record));
  t.match(text, 'frozen 78.1 ms, 8.1 MiB of memory (2079 pages)');
  t.match(text, 'restore 153.4 ms');
});

t.test('a failed checkpoint or restore is reported by podman\'s error, not by the timestamp of its log lines', async (t) => {
  const logged = 'time="2026-12-02T00:44:52Z" level=error msg="criu failed: type NOTIFY errno 0"\n';
  t.equal(podmanError(`${logged}Error: OCI runtime error: runc: read unixpacket @->@: recvmsg\n`), 'OCI runtime error: runc: read unixpacket @->@: recvmsg');
  t.equal(podmanError(logged), 'criu failed: type NOTIFY errno 0', 'no Error: line: the logged error\'s message');
  t.equal(podmanError('one\ntwo\nthree\n'), 'two | three', 'neither: the last two lines');
});
