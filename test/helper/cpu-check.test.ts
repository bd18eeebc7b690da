/**
 * The CPU check between a source and the target's helper, on loopback with the real CRIU (root): the source's
 * own `criu cpuinfo dump` passes the target's `criu cpuinfo check`; images of other CPUs (this machine's image
 * edited, test/unit/fixtures/cpuinfo-image.ts) are refused by CRIU itself with the difference, which becomes a
 * fatal finding unless forced; what the helper must not accept (oversize, not an image) never reaches CRIU; a
 * helper that cannot check, is busy or is gone makes the answer unknown, not a guess, and unknown is fatal unless forced.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { serve, type Helper } from '../../src/helper/server.js';
import { cpuCompatibility, type Peer } from '../../src/helper/client.js';
import { rawRequest as rawLine } from './fixtures/raw-request.js';
import { checkCpuinfo, dumpCpuinfo } from '../../src/criu/cpuinfo.js';
import type { CpuVerdict } from '../../src/criu/cpuinfo-image.js';
import { checkTargetCpu, cpuFinding, targetCpuVerdict } from '../../src/migrate/cpu-check.js';
import type { PeerView } from '../../src/migrate/peer.js';
import { criuForTests } from '../lab/criu-for-tests.js';
import { cpuWithExtraInstruction, missingInstruction, olderCpu, readX86Cpu } from '../unit/fixtures/cpuinfo-image.js';

const KEY = randomBytes(32);
const root = mkdtempSync(join(tmpdir(), 'ferry-cpu-'));
process.env.FERRY_RUN_DIR = join(root, 'run');
let criu = '';
const helpers: Helper[] = [];
let port = 0;
const peer = (p = port): Peer => ({ host: '127.0.0.1', port: p, key: KEY, identity: 'node1', timeoutMs: 10_000 });
const view = (p = port): PeerView => ({ target: 'node2', choice: undefined, problem: undefined, helper: peer(p) });

async function helper(checkCpu?: (image: Buffer) => Promise<CpuVerdict>): Promise<number> {
  const h = await serve({ addresses: ['127.0.0.1'], port: 0, key: KEY, dir: join(root, 'dir'), maxBytes: 4096, node: 'node2', criuVersion: '4.2.1', ...(checkCpu ? { checkCpu } : {}) });
  helpers.push(h);
  return h.ports[0] ?? 0;
}

t.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the CPU check tests need root (criu cpuinfo dump/check)');
  criu = await criuForTests();
  port = await helper((image) => checkCpuinfo(criu, image));
});
t.teardown(async () => {
  await Promise.all(helpers.map((h) => h.close()));
  rmSync(root, { recursive: true, force: true });
});

const rawRequest = (line: string, p = port): Promise<string> => rawLine(KEY, line, p);

t.test('same CPU: the source\'s real cpuinfo passes the target\'s real check', async (t) => {
  const verdict = await targetCpuVerdict(criu, view());
  t.same(verdict, { result: 'compatible' }, 'criu cpuinfo dump here, criu cpuinfo check in the helper');
  const finding = await checkTargetCpu(criu, view(), false);
  t.match(finding, { check: 'target CPU', ok: true, fatal: false });
  t.same(readdirSync(join(root, 'run')).filter((e) => e.startsWith('cpuinfo-')), [], 'no scratch directory left on either side');
});

t.test('another CPU: CRIU on the target names the difference, and the finding stops the migration', async (t) => {
  // What CRIU must say follows from this machine's own image and the edit, not from the machine the test was written on.
  const own = await dumpCpuinfo(criu);
  const older = olderCpu(own);
  const expectedSizes = `${readX86Cpu(older).xsaveSize}/${readX86Cpu(own).xsaveSize}`;
  t.not(readX86Cpu(older).xsaveSize, readX86Cpu(own).xsaveSize, 'the edited CPU has another xsave frame by construction');
  const olderVerdict = await cpuCompatibility(peer(), older);
  t.same(olderVerdict, { result: 'incompatible', reason: `cpu: CPU xsave size mismatch (${expectedSizes})` }, `a source without AVX-512: the xsave frame differs (${expectedSizes})`);
  t.comment(`this CPU: xsave ${readX86Cpu(own).xsaveSize} bytes; the made-up instruction: ${missingInstruction(own).name}`);
  const extra = await cpuCompatibility(peer(), cpuWithExtraInstruction(own));
  t.same(extra, { result: 'incompatible', reason: 'cpu: CPU instruction capabilities do not match run time' }, `a source with ${missingInstruction(own).name}: an instruction the target lacks`);
  const stop = cpuFinding('node2', extra, false);
  t.match(stop, { ok: false, fatal: true });
  t.match(stop.detail, /node2's CPU cannot run a checkpoint of this one \(cpu: CPU instruction capabilities do not match run time\)/);
  t.match(cpuFinding('node2', olderVerdict, false), { ok: false, fatal: true }, 'not forced: the migration does not go ahead');
  t.match(cpuFinding('node2', olderVerdict, true), { ok: false, fatal: false }, 'forced: reported, the migration goes ahead');
});

t.test('what the helper refuses never reaches CRIU', async (t) => {
  let calls = 0;
  const counting = await helper(async () => { calls += 1; return { result: 'compatible' }; });
  const big = Buffer.alloc(5000).toString('base64');
  t.match(await rawRequest(`${JSON.stringify({ op: 'cpuinfo', image: big })}\n`, counting), /"ok":false.*invalid cpuinfo image/, 'over 4 KiB');
  t.match(await rawRequest(`${JSON.stringify({ op: 'cpuinfo', image: Buffer.from('x'.repeat(64)).toString('base64') })}\n`, counting), /"ok":false.*wrong magic/, 'not a cpuinfo image');
  t.match(await rawRequest('{"op":"cpuinfo"}\n', counting), /"ok":false.*invalid cpuinfo image/, 'no image');
  t.equal(calls, 0, 'the checker was never called');
  const own = (await dumpCpuinfo(criu)).toString('base64');
  const line = `${JSON.stringify({ op: 'cpuinfo', image: own })}\n`;
  t.match(await rawRequest(line + line + line, counting), /"cpu":\{"result":"compatible"\}/, 'a good request is answered');
  t.equal(calls, 1, 'requests sent after it on the same connection are dropped, not checked again');
});

t.test('a helper that cannot check, is busy or is gone: unknown, with the reason', async (t) => {
  const without = await helper();
  const v = await targetCpuVerdict(criu, view(without));
  t.same(v, { result: 'unknown', reason: 'helper at 127.0.0.1 cannot check the CPU: this helper cannot check CPUs (started without CRIU)' });
  t.match(await checkTargetCpu(criu, view(without), false), { ok: false, fatal: true, unknown: true, detail: /^unknown \(.*cpu_check_force=true/ },
    'not compared: fatal unless forced (fail closed)');
  t.match(await checkTargetCpu(criu, view(without), true), { ok: false, fatal: false, unknown: true, detail: /the CPUs were not compared/ }, 'forced: not fatal');

  const releases: (() => void)[] = [];
  const slow = await helper(() => new Promise((resolve) => { releases.push(() => resolve({ result: 'compatible' })); }));
  const own = await dumpCpuinfo(criu);
  const settled: unknown[] = [];
  const asked = Array.from({ length: 5 }, () => cpuCompatibility(peer(slow), own).then((x) => x, (err: Error) => err.message)
    .then((a) => { settled.push(a); return a; }));
  // every request has been either taken on by the checker (held there) or answered (refused): only then let go
  const until = Date.now() + 30_000;
  while (releases.length + settled.length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  t.equal(releases.length + settled.length, 5, `all five requests reached the helper (${releases.length} held, ${settled.length} answered)`);
  for (const release of releases) release();
  const answers = await Promise.all(asked);
  t.equal(answers.filter((a) => typeof a === 'object' && a.result === 'compatible').length, 4, 'four checks at once are answered');
  t.same(answers.filter((a) => typeof a === 'string'), ['helper at 127.0.0.1 cannot check the CPU: 4 CPU checks are already running'], 'the fifth is refused, not queued');

  const gone = await helper();
  const gonePort = gone;
  await helpers.pop()?.close();
  const dead = await targetCpuVerdict(criu, view(gonePort));
  t.equal(dead.result, 'unknown', 'no helper listening');
  t.match((dead as { reason: string }).reason, /ECONNREFUSED/);
});
