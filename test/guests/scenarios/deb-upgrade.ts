/**
 * Upgrading the .deb under a running cluster, with no maintenance window: the guests boot with ferry_V_all.deb
 * installed by apt (guests.sh), a container resource runs with a monitor every second, and ferry_V+upgrade1
 * (the same tree under a higher version: what is tested is the package's switch, not a code change) is
 * installed with apt on the node that runs it, then on the other. Meanwhile a loop in that guest checks every
 * 20 ms that the agent's path resolves to a release holding the agent and its lazily loaded bundle, and the
 * container's monitor_cmd stamps every monitor into a file. Passes only if monitors ran during the upgrade, none
 * failed (crm_mon shows no failed action, fail count 0), the path was never missing, the container is the same
 * process, and current and previous point at the new and the old release. A scenario of the guest stage (test/guests/guest-stage.guest.ts); it runs last, as it upgrades the package.
 */
import type { Test } from 'tap';
import { execa } from 'execa';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { guestExec, guestName, mustGuest, SHARED_DIR, type GuestId } from '../guests.js';
import { REPO } from '../../lab/lab.js';

const RSC = 'upg1';
const STAMPS = '/var/tmp/ferry-upgrade-monitors';
const POLL = '/var/tmp/ferry-upgrade-poll';
const AGENT = '/usr/lib/ocf/resource.d/ferry/container';
const clean = { NODE_OPTIONS: undefined as unknown as string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function where(): Promise<GuestId | undefined> {
  const r = await guestExec(1, ['crm_resource', '--resource', RSC, '--locate'], { timeoutMs: 60_000 });
  const m = /is running on: (guest[12])/.exec(r.stdout);
  return m ? (m[1] === 'guest2' ? 2 : 1) : undefined;
}
async function stampsOn(n: GuestId): Promise<number[]> {
  const r = await guestExec(n, ['cat', STAMPS]);
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean).map(Number) : [];
}
const nowIn = async (n: GuestId): Promise<number> => Number((await mustGuest(n, ['date', '+%s%3N'])).trim());

export const title = 'apt upgrade of ferry under monitors every second: no failed action, the agent path never missing';

export async function run(t: Test): Promise<void> {
  const old = (await mustGuest(1, ['dpkg-query', '-W', '-f=${Version}', 'ferry'])).trim();
  t.ok(old, `ferry ${old} installed from its .deb`);

  // the next package: the same tree, a higher version, into the share every guest mounts at /shared
  for (const f of readdirSync(SHARED_DIR)) if (f.endsWith('.deb')) rmSync(join(SHARED_DIR, f));
  const next = `${old}+upgrade1`;
  const built = await execa('sh', [join(REPO, 'scripts', 'build-deb.sh'), SHARED_DIR], { env: { ...clean, FERRY_DEB_VERSION: next }, reject: false, all: true });
  t.equal(built.exitCode, 0, `ferry_${next}_all.deb built`, { output: built.all });
  const deb = `/shared/ferry_${next}_all.deb`;

  // under emulation one monitor takes about 10 s (exec-time 10541 ms measured here) and apt shares the guest's one
  // CPU with it: a 30 s timeout was exceeded during the upgrade (CPU, not a missing path: the poll saw none)
  const nv = (name: string, value: string) => `<nvpair id="${RSC}-${name.replace(/_/g, '-')}" name="${name}" value="${value.replace(/&/g, '&amp;').replace(/>/g, '&gt;').replace(/</g, '&lt;')}"/>`;
  const op = (name: string, interval: string, timeout: string) => `<op id="${RSC}-${name}-${interval}" name="${name}" interval="${interval}" timeout="${timeout}"/>`;
  const xml = `<primitive id="${RSC}" class="ocf" provider="ferry" type="container"><instance_attributes id="${RSC}-params">`
    + nv('name', RSC) + nv('command', 'exec sleep 100000') + nv('monitor_cmd', `date +%s%3N >> ${STAMPS}`)
    + `</instance_attributes><operations>${op('monitor', '1s', '120s')}${op('start', '0', '120s')}${op('stop', '0', '120s')}</operations></primitive>`;
  await mustGuest(1, ['cibadmin', '--create', '--scope', 'resources', '--xml-text', xml], { timeoutMs: 120_000 });
  let home: GuestId | undefined;
  for (let i = 0; i < 120 && !home; i += 1) { home = await where(); if (!home) await sleep(2000); }
  if (!home) { t.fail(`${RSC} did not start`); return; }
  const away: GuestId = home === 1 ? 2 : 1;
  for (let i = 0; i < 60 && (await stampsOn(home)).length < 3; i += 1) await sleep(1000);
  t.ok((await stampsOn(home)).length >= 3, `${RSC} runs on ${guestName(home)}, monitors stamping`);
  const pidBefore = (await mustGuest(home, ['ferry', 'status', '--json'])).trim();

  // the poll: every 20 ms, does the agent's path lead to a release with the agent and its lazily loaded bundle?
  await mustGuest(home, ['sh', '-c', `rm -f ${POLL}.*; setsid sh -c '
    ok=0 missing=0
    while [ ! -e ${POLL}.stop ]; do
      d=$(readlink -f ${AGENT}) && r=\${d%/ocf/ferry/container} && [ -f "$d" ] && [ -f "$r/dist/agent.cjs" ] && [ -f "$r/dist/agent-monitor.cjs" ] && [ -f "$r/dist/agent-deps.cjs" ] \\
        && ok=$((ok + 1)) || { missing=$((missing + 1)); echo "$(date +%s%3N) \${d:-none}" >> ${POLL}.missing; }
      sleep 0.02
    done
    echo "$ok $missing" > ${POLL}.result' </dev/null >/dev/null 2>&1 &`]);

  const upgradeOn = async (n: GuestId): Promise<{ start: number; end: number }> => {
    const start = await nowIn(n);
    const r = await guestExec(n, ['sh', '-c', `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${deb}`], { timeoutMs: 900_000 });
    const end = await nowIn(n);
    t.equal(r.exitCode, 0, `${guestName(n)}: apt-get install ${deb} (${end - start} ms)`, { output: `${r.stdout}\n${r.stderr}` });
    return { start, end };
  };
  const span = await upgradeOn(home);
  const during = (await stampsOn(home)).filter((s) => s >= span.start && s <= span.end);
  t.ok(during.length >= 1, `monitors during the upgrade on ${guestName(home)}: ${during.length} in ${span.end - span.start} ms`);
  await upgradeOn(away);
  // monitors after it, run by the new agent: under emulation one takes ~10 s, so wait for two (bounded), not a fixed time
  for (let i = 0; i < 120 && (await stampsOn(home)).filter((s) => s > span.end).length < 2; i += 1) await sleep(1000);
  await mustGuest(home, ['touch', `${POLL}.stop`]);
  let result = '';
  for (let i = 0; i < 30 && !result; i += 1) { result = (await guestExec(home, ['cat', `${POLL}.result`])).stdout.trim(); if (!result) await sleep(500); }
  const [ok = 0, missing = -1] = result.split(' ').map(Number);
  const missed = (await guestExec(home, ['cat', `${POLL}.missing`])).stdout.trim();
  t.ok(ok > 50, `the agent's path polled ${ok + Math.max(missing, 0)} times`);
  t.equal(missing, 0, 'the agent\'s path never missing or incomplete', { missed });

  const after = (await stampsOn(home)).filter((s) => s > span.end);
  t.ok(after.length >= 2, `monitors went on after the upgrade (${after.length})`);
  const mon = await mustGuest(1, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 60_000 });
  t.notMatch(mon, /<failure /, 'crm_mon: no failed actions');
  const fails = await guestExec(1, ['crm_failcount', '--query', '--resource', RSC, '--node', guestName(home)]);
  t.match(fails.stdout, /value=(0|\(null\))/, `fail count on ${guestName(home)}: ${fails.stdout.trim()}`);
  t.equal(await where(), home, `${RSC} still on ${guestName(home)}`);
  t.equal((await mustGuest(home, ['ferry', 'status', '--json'])).trim(), pidBefore, 'the same container process (ferry status unchanged)');
  for (const n of [home, away]) {
    const state = await mustGuest(n, ['sh', '-c', "dpkg-query -W -f='${Version}\\n' ferry; readlink /usr/lib/ferry/current; readlink /usr/lib/ferry/previous; ls /usr/lib/ferry/releases | wc -l"]);
    const [version = '', current = '', previous = '', count = ''] = state.trim().split('\n');
    t.equal(version, next, `${guestName(n)}: ferry ${next} installed`);
    t.match(current, new RegExp(`^releases/${next.replace(/[.+]/g, '\\$&')}-`), `${guestName(n)}: current -> ${current}`);
    t.match(previous, new RegExp(`^releases/${old.replace(/[.+]/g, '\\$&')}-`), `${guestName(n)}: previous -> ${previous}`);
    t.equal(count, '2', `${guestName(n)}: two releases kept`);
  }
  t.comment(`monitor stamps during the upgrade on ${guestName(home)}: ${during.length}; polls ${ok}, missing ${missing}`);
}
