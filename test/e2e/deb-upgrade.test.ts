/**
 * Upgrading the .deb under the lab's Pacemaker, with no maintenance window: each lab node gets its own
 * package world inside its mount namespace (overlays on /usr, /etc and /var/lib/dpkg, an empty /usr/lib/ferry,
 * so that dpkg writes nothing of the host's), the previous package (this tree as VERSION~prev1) is installed
 * with dpkg on both nodes, a container resource runs with a monitor every second, and this tree's package
 * (VERSION) is installed over it on the container's node (then down to the old one and up again, until at least
 * 3 monitors ran while dpkg did: one install takes about a second here) while a loop there checks every 20 ms
 * that the agent's path resolves to a release holding the agent and its lazily loaded bundle, and the
 * container's monitor_cmd stamps every monitor. Passes only if monitors ran during the installs, none failed
 * (crm_mon, fail count), the path was never missing, the container kept its process, and current/previous
 * name the new and the old release.
 * (The guest lab does the same with apt on stock Debian: test/guests/scenarios/deb-upgrade.ts.)
 */
import t from 'tap';
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crmMonXml, failedActions, LAB_DIR, labDown, labUp, nodeExec, REPO, resourceNodes, SHARED_DIR, waitFor, type NodeId } from '../lab/lab.js';
import { createResource } from '../lab/cluster.js';

const RSC = 'debup1';
const STAMPS = join(SHARED_DIR, 'debup1.monitors');
const POLL = join(SHARED_DIR, 'debup1.poll');
const AGENT = '/usr/lib/ocf/resource.d/ferry/container';
const clean = { NODE_OPTIONS: undefined as unknown as string };
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const OLD = `${pkg.version}~prev1`;
const NEW = pkg.version;
const DEBS = join(LAB_DIR, 'debs');

/** The node's private package world: every mount under DIR kept (bound aside, then back over the overlay). */
const PRIVATE_WORLD = `set -eu
D=$1
ov() {
  X=$1 U=$D/ov$(echo "$1" | tr / _)
  mkdir -p "$U/up" "$U/work" "$U/hold"
  subs=$(awk -v x="$X/" 'index($5, x) == 1 {print $5}' /proc/self/mountinfo)
  i=0
  for m in $subs; do i=$((i + 1)); if [ -d "$m" ]; then mkdir -p "$U/hold/$i"; else : > "$U/hold/$i"; fi; mount --bind "$m" "$U/hold/$i"; done
  mount -t overlay overlay -o "lowerdir=$X,upperdir=$U/up,workdir=$U/work" "$X"
  i=0
  for m in $subs; do i=$((i + 1)); mount --bind "$U/hold/$i" "$m"; done
}
ov /usr; ov /etc; ov /var/lib/dpkg
mkdir -p /usr/lib/ferry "$D/lib-ferry"
mount --bind "$D/lib-ferry" /usr/lib/ferry
`;

const dpkgInstall = (n: NodeId, deb: string) => nodeExec(n, 'dpkg', ['--log=/dev/null', '--no-triggers', '-i', deb], { timeoutMs: 300_000 });
const stamps = (): number[] => (existsSync(STAMPS) ? readFileSync(STAMPS, 'utf8').split('\n').filter(Boolean).map(Number) : []);

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root');
  await labUp();
  mkdirSync(DEBS, { recursive: true });
  for (const v of [OLD, NEW]) {
    const r = await execa('sh', [join(REPO, 'scripts', 'build-deb.sh'), DEBS], { env: { ...clean, FERRY_DEB_VERSION: v }, reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`build-deb.sh ${v} failed:\n${r.all}`);
  }
});
t.teardown(async () => { await labDown(); });

t.test(`dpkg upgrade ${OLD} -> ${NEW} under a monitor every second`, async (t) => {
  for (const n of [1, 2] as NodeId[]) {
    const w = await nodeExec(n, 'sh', ['-c', PRIVATE_WORLD, 'world', join(LAB_DIR, `deb-node${n}`)]);
    t.equal(w.exitCode, 0, `node${n}: private /usr, /etc, /var/lib/dpkg, /usr/lib/ferry`, { stderr: w.stderr });
    const i = await dpkgInstall(n, join(DEBS, `ferry_${OLD}_all.deb`));
    t.equal(i.exitCode, 0, `node${n}: dpkg -i ferry_${OLD}_all.deb`, { output: `${i.stdout}\n${i.stderr}` });
  }
  t.notOk(existsSync('/usr/lib/ferry/package'), 'the host\'s /usr/lib/ferry untouched (no package/ there)');
  const hostDpkg = await execa('dpkg-query', ['-W', '-f=${Status}', 'ferry'], { reject: false });
  t.notMatch(hostDpkg.stdout, /installed/, 'the host\'s dpkg knows no ferry');
  const resolved = (await nodeExec(1, 'readlink', ['-f', AGENT])).stdout.trim();
  t.match(resolved, /^\/usr\/lib\/ferry\/releases\/[^/]+\/ocf\/ferry\/container$/, `node1's agent resolves into the package's release (${resolved})`);

  rmSync(STAMPS, { force: true });
  await createResource({ id: RSC, params: { name: RSC, command: 'exec sleep 100000', monitor_cmd: `date +%s%3N >> ${STAMPS}` }, monitorIntervalS: 1 });
  await waitFor(async () => (await resourceNodes(1, RSC)).length === 1 && stamps().length >= 3, { what: `${RSC} started and monitored`, timeoutMs: 120_000 });
  const home = (await resourceNodes(1, RSC))[0] === 'node2' ? 2 : 1;
  const pidBefore = (await nodeExec(home, '/usr/sbin/ferry', ['status', '--json'])).stdout.trim();

  rmSync(`${POLL}.stop`, { force: true });
  rmSync(`${POLL}.result`, { force: true });
  rmSync(`${POLL}.missing`, { force: true });
  const poller = nodeExec(home, 'sh', ['-c', `ok=0 missing=0
    while [ ! -e ${POLL}.stop ]; do
      d=$(readlink -f ${AGENT}) && r=\${d%/ocf/ferry/container} && [ -f "$d" ] && [ -f "$r/dist/agent.cjs" ] && [ -f "$r/dist/agent-monitor.cjs" ] && [ -f "$r/dist/agent-deps.cjs" ] \\
        && ok=$((ok + 1)) || { missing=$((missing + 1)); echo "$(date +%s%3N) \${d:-none}" >> ${POLL}.missing; }
      sleep 0.02
    done
    echo "$ok $missing" > ${POLL}.result`], { timeoutMs: 600_000 });
  await new Promise((r) => setTimeout(r, 1000));
  // one upgrade takes about a second on a fast machine: monitors (one a second) may fall between. So the switch
  // is made again and again, down to OLD and up to NEW, until at least 3 monitors ran during one, ending on NEW
  const spans: { start: number; end: number }[] = [];
  const inSpans = () => stamps().filter((s) => spans.some((p) => s >= p.start && s <= p.end));
  for (let i = 0; i < 21 && (inSpans().length < 3 || i % 2 === 0); i += 1) {   // i even: nothing or OLD was last
    const v = i % 2 === 0 ? NEW : OLD;
    const start = Date.now();
    const r = await dpkgInstall(home, join(DEBS, `ferry_${v}_all.deb`));
    spans.push({ start, end: Date.now() });
    if (r.exitCode !== 0) { t.fail(`node${home}: dpkg -i ferry_${v}_all.deb exited ${r.exitCode}`, { output: `${r.stdout}\n${r.stderr}` }); break; }
  }
  const start = spans[0]?.start ?? 0;
  const end = spans[spans.length - 1]?.end ?? 0;
  const installMs = spans.reduce((a, p) => a + p.end - p.start, 0);
  t.pass(`node${home}: ${spans.length} installs (${OLD} <-> ${NEW}, ending on ${NEW}), ${installMs} ms of dpkg in all`);
  const other: NodeId = home === 1 ? 2 : 1;
  const up2 = await dpkgInstall(other, join(DEBS, `ferry_${NEW}_all.deb`));
  t.equal(up2.exitCode, 0, `node${other}: upgraded too`);
  await new Promise((r) => setTimeout(r, 4000));   // monitors by the new agent
  const during = inSpans();
  const after = stamps().filter((s) => s > end);
  mkdirSync(SHARED_DIR, { recursive: true });
  await execa('touch', [`${POLL}.stop`]);
  await poller;
  const [ok = 0, missing = -1] = readFileSync(`${POLL}.result`, 'utf8').trim().split(' ').map(Number);
  t.ok(during.length >= 3, `monitors while dpkg ran: ${during.length} in ${installMs} ms (${stamps().filter((s) => s >= start && s <= end).length} from the first install to the last)`);
  t.ok(after.length >= 2, `monitors after it: ${after.length}`);
  t.ok(ok > 20, `the agent's path polled ${ok + Math.max(0, missing)} times`);
  t.equal(missing, 0, 'the agent\'s path never missing or incomplete', { missed: existsSync(`${POLL}.missing`) ? readFileSync(`${POLL}.missing`, 'utf8') : '' });
  t.same(await failedActions(1), [], 'crm_mon: no failed actions');
  t.notMatch(await crmMonXml(1), /<failure /, 'no <failure> in crm_mon\'s XML');
  const fails = await nodeExec(1, 'crm_failcount', ['--query', '--resource', RSC, '--node', `node${home}`]);
  t.match(fails.stdout, /value=(0|\(null\))/, `fail count: ${fails.stdout.trim()}`);
  t.equal((await nodeExec(home, '/usr/sbin/ferry', ['status', '--json'])).stdout.trim(), pidBefore, 'the same container process (ferry status unchanged)');
  const state = (await nodeExec(home, 'sh', ['-c', "dpkg-query -W -f='${Version}\\n' ferry; readlink /usr/lib/ferry/current; readlink /usr/lib/ferry/previous; ls /usr/lib/ferry/releases | wc -l"])).stdout.trim().split('\n');
  t.equal(state[0], NEW, `ferry ${NEW} installed`);
  t.match(state[1] ?? '', new RegExp(`^releases/${NEW.replace(/\./g, '\\.')}-`), `current -> ${state[1]}`);
  t.match(state[2] ?? '', /^releases\/.*~prev1-/, `previous -> ${state[2]}`);
  t.equal(state[3], '2', 'two releases kept');
  t.comment(`node${home}: ${spans.length} installs, ${installMs} ms of dpkg, ${during.length} monitors during them, ${ok} polls, ${missing} missing`);
});
