/**
 * The CPU check before a migration, without root: CRIU's command lines, which cpuinfo images the helper accepts
 * from a peer, what CRIU's answers mean (real outputs of criu cpuinfo check, test/unit/fixtures/cpuinfo), and the
 * finding the source makes of the verdict: fatal on a mismatch unless forced, never fatal when unknown.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  asCpuVerdict, cpuinfoCheckArgs, cpuinfoDumpArgs, cpuinfoImageProblem, cpuVerdict, MAX_CPUINFO_IMAGE_BYTES,
} from '../../src/criu/cpuinfo-image.js';
import { parseRequest, RequestError } from '../../src/helper/protocol.js';
import { cpuFinding, targetCpuVerdict } from '../../src/migrate/cpu-check.js';
import { OCF } from '../../src/ocf/exit-codes.js';
import { OCF_CODE_OF } from '../../src/ocf/outcomes.js';
import { parseConfig } from '../../src/ocf/config.js';
import { cpuWithExtraInstruction, editX86Cpu, missingInstruction, olderCpu, readX86Cpu } from './fixtures/cpuinfo-image.js';

const runDir = mkdtempSync(join(tmpdir(), 'ferry-cpu-unit-'));
process.env.FERRY_RUN_DIR = runDir;
t.teardown(() => rmSync(runDir, { recursive: true, force: true }));

const DIR = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'cpuinfo');
interface Capture { case: string; exitCode: number; stderr: string }
const captures = (JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { captures: Capture[] }).captures;
const recorded = (name: string) => {
  const c = captures.find((x) => x.case === name);
  if (!c) throw new Error(`no capture ${name}`);
  return { exitCode: c.exitCode, output: readFileSync(join(DIR, c.stderr), 'utf8') };
};

/** A well-formed header (IMG_COMMON_MAGIC, CPUINFO_MAGIC, entry length) around `entry`. */
function image(entry: Buffer, magics: [number, number] = [0x54564319, 0x61404013]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(magics[0], 0);
  header.writeUInt32LE(magics[1], 4);
  header.writeUInt32LE(entry.length, 8);
  return Buffer.concat([header, entry]);
}
/** The entry of this machine's cpuinfo.img as CRIU 4.2.1 wrote it (131 bytes with the header). */
const REAL = Buffer.from('GUNWVBNAQGF3AAAACnUIARAGGM8BIAIoAjD/96/8ATCAkMDgAjAAMICAxBAwg+To/w8wADChAjAAMAAw68/8jQ8wHzDev4XaATAAMICkgwgwBDAAMAAwADCQiMX+CzoaSW50ZWwoUikgWGVvbihSKSBQcm9jZXNzb3JA5QVIgFZQgFY=', 'base64');

t.test('command lines: dump into a directory, check with the features that matter', async (t) => {
  t.same(cpuinfoDumpArgs('/run/ferry/cpuinfo-x'), ['cpuinfo', 'dump', '--images-dir', '/run/ferry/cpuinfo-x']);
  t.same(cpuinfoCheckArgs('/d'), ['cpuinfo', 'check', '--images-dir', '/d', '--cpu-cap=fpu,ins']);
});

t.test('images a peer may send: CRIU\'s magics, a consistent length, at most 4 KiB', async (t) => {
  t.equal(cpuinfoImageProblem(REAL), undefined, 'a real cpuinfo.img is accepted');
  t.equal(REAL.length, 131);
  t.match(cpuinfoImageProblem(image(Buffer.alloc(MAX_CPUINFO_IMAGE_BYTES))), /refused \(at most 4096\)/, 'too big');
  t.equal(cpuinfoImageProblem(image(Buffer.alloc(MAX_CPUINFO_IMAGE_BYTES - 12))), undefined, 'exactly 4096 bytes is still fine');
  t.match(cpuinfoImageProblem(Buffer.from('short')), /too short/);
  t.match(cpuinfoImageProblem(image(Buffer.alloc(8), [0x54564319, 0x12345678])), /wrong magic/, 'another image type (not cpuinfo)');
  t.match(cpuinfoImageProblem(image(Buffer.alloc(8), [0, 0x61404013])), /wrong magic/, 'no common magic');
  const lying = image(Buffer.alloc(8));
  lying.writeUInt32LE(200, 8);
  t.match(cpuinfoImageProblem(lying), /announces 200 bytes .* carries 8/, 'length field must match');
});

t.test('the helper\'s request parser checks the image before anything else sees it', async (t) => {
  const req = parseRequest(JSON.stringify({ op: 'cpuinfo', image: REAL.toString('base64'), resource: '../x' }), 4096);
  t.same(req, { op: 'cpuinfo', image: REAL }, 'decoded, other fields dropped');
  const refused = (raw: unknown) => {
    try {
      return `accepted ${JSON.stringify(parseRequest(JSON.stringify({ op: 'cpuinfo', image: raw }), 4096))}`;
    } catch (err) {
      return err instanceof RequestError ? err.message : `not a RequestError: ${String(err)}`;
    }
  };
  t.match(refused(undefined), /invalid cpuinfo image/, 'missing');
  t.match(refused(42), /invalid cpuinfo image/, 'not a string');
  t.match(refused('not base64!'), /invalid cpuinfo image/, 'not base64');
  t.match(refused('QUJD'), /too short/, 'base64 of too little');
  t.match(refused('A'.repeat(8000)), /invalid cpuinfo image/, 'longer than 4 KiB of base64 is refused before decoding');
  t.match(refused(Buffer.from('x'.repeat(100)).toString('base64')), /wrong magic/, 'not a cpuinfo image');
});

t.test('CRIU\'s answers (recorded from criu 4.2.1): mismatches are named, other failures are unknown', async (t) => {
  t.same(cpuVerdict(recorded('same-cpu').exitCode, recorded('same-cpu').output), { result: 'compatible' }, 'its own image');
  const older = cpuVerdict(recorded('older-cpu').exitCode, recorded('older-cpu').output);
  t.same(older, { result: 'incompatible', reason: 'cpu: CPU xsave size mismatch (832/11008)' }, 'an older CPU: xsave frame size');
  const tsx = cpuVerdict(recorded('cpu-with-extra-instruction').exitCode, recorded('cpu-with-extra-instruction').output);
  t.same(tsx, { result: 'incompatible', reason: 'cpu: CPU instruction capabilities do not match run time' }, 'instructions the target lacks');
  t.same(cpuVerdict(recorded('garbled').exitCode, recorded('garbled').output), { result: 'unknown', reason: 'Head magic doesn\'t match for cpuinfo.img' });
  t.same(cpuVerdict(recorded('no-image').exitCode, recorded('no-image').output), { result: 'unknown', reason: 'cpu: No cpuinfo image' }, 'not a mismatch: the check did not happen');
  t.same(cpuVerdict(1, ''), { result: 'unknown', reason: 'criu cpuinfo check exit 1 without saying why' });
  t.same(cpuVerdict(1, '(00.01) Error (criu/arch/x86/cpu.c:240): cpu: FPU feature required by image is not supported on host (fpu:0 fxsr:0 osxsave:1 xsaves:0)\n'),
    { result: 'incompatible', reason: 'cpu: FPU feature required by image is not supported on host (fpu:0 fxsr:0 osxsave:1 xsaves:0)' }, 'with a log timestamp');
});

t.test('a peer\'s verdict is taken only in its known shapes', async (t) => {
  t.same(asCpuVerdict({ result: 'compatible', reason: 'x' }), { result: 'compatible' });
  t.same(asCpuVerdict({ result: 'incompatible', reason: 'r' }), { result: 'incompatible', reason: 'r' });
  t.same(asCpuVerdict({ result: 'incompatible', reason: 'x'.repeat(10_000) }), { result: 'incompatible', reason: 'x'.repeat(500) }, 'reason bounded');
  t.same(asCpuVerdict({ result: 'incompatible' }), { result: 'unknown', reason: 'the helper\'s answer is not a CPU verdict' }, 'a mismatch without a reason is not trusted');
  t.same(asCpuVerdict('compatible'), { result: 'unknown', reason: 'the helper\'s answer is not a CPU verdict' });
  t.same(asCpuVerdict(null), { result: 'unknown', reason: 'the helper\'s answer is not a CPU verdict' });
});

t.test('the finding: fatal on a mismatch or an unknown answer unless forced, ok when compatible', async (t) => {
  const ok = cpuFinding('node2', { result: 'compatible' }, false);
  t.match(ok, { check: 'target CPU', ok: true, fatal: false });
  const bad = cpuFinding('node2', { result: 'incompatible', reason: 'cpu: CPU xsave size mismatch (832/11008)' }, false);
  t.match(bad, { ok: false, fatal: true, kind: 'refused' }, 'fatal, a refusal');
  t.equal(OCF_CODE_OF[bad.kind], OCF.ERR_GENERIC, 'and ERR_GENERIC for the agent: ERR_INSTALLED on migrate_to would ban the source');
  t.match(bad.detail, /node2's CPU cannot run a checkpoint .*xsave size mismatch.*cpu_check_force=true \(ferry check --force\) overrides/);
  const forced = cpuFinding('node2', { result: 'incompatible', reason: 'cpu: x' }, true);
  t.match(forced, { ok: false, fatal: false }, 'forced: reported, not fatal');
  t.match(forced.detail, /migrating anyway \(forced\).*crash/);
  const unknown = cpuFinding('node2', { result: 'unknown', reason: 'the helper of node2 does not answer' }, false);
  t.match(unknown, { ok: false, fatal: true, unknown: true, kind: 'refused' }, 'not compared: fatal (fail closed), and marked as not a "no"');
  t.match(unknown.detail, /^unknown \(the helper of node2 does not answer\): node2's CPU could not be compared.*cpu_check_force=true/,
    'the reason names the parameter that overrides it');
  const unknownForced = cpuFinding('node2', { result: 'unknown', reason: 'the helper of node2 does not answer' }, true);
  t.match(unknownForced, { ok: false, fatal: false, unknown: true }, 'forced: not fatal');
  t.match(unknownForced.detail, /the CPUs were not compared, migrating anyway \(forced\)/);
});

t.test('without a helper to ask, the verdict is unknown with the reason, and nothing runs', async (t) => {
  const none = await targetCpuVerdict('/nonexistent/criu', { target: 'node2', choice: undefined, problem: 'cannot read /etc/ferry/authkey' });
  t.same(none, { result: 'unknown', reason: 'cannot read /etc/ferry/authkey' });
  const silent = await targetCpuVerdict('/nonexistent/criu', { target: 'node2', choice: undefined, problem: undefined });
  t.same(silent, { result: 'unknown', reason: 'no helper of node2 answered' });
  const noCriu = await targetCpuVerdict('/nonexistent/criu', { target: 'node2', choice: undefined, problem: undefined,
    helper: { host: '127.0.0.1', port: 9, key: Buffer.alloc(32), identity: 't' } });
  t.equal(noCriu.result, 'unknown', 'this node\'s CRIU cannot describe the CPU: unknown, not a mismatch');
  t.match((noCriu as { reason: string }).reason, /this node's CPU cannot be described/);
  t.same(readdirSync(runDir), [], 'its scratch directory is gone');
});

t.test('cpu_check_force is a boolean parameter, false by default', async (t) => {
  const base = { OCF_RESKEY_name: 'c1', OCF_RESKEY_command: 'sleep 1' };
  t.equal(parseConfig(base).config?.cpu_check_force, false);
  t.equal(parseConfig({ ...base, OCF_RESKEY_cpu_check_force: 'true' }).config?.cpu_check_force, true);
  t.match(parseConfig({ ...base, OCF_RESKEY_cpu_check_force: 'sometimes' }).errors[0]?.message ?? '', /cpu_check_force/);
});

t.test('the test images describe other CPUs and stay valid cpuinfo images', async (t) => {
  const own = readX86Cpu(REAL);
  t.equal(own.xsaveSize, 11008);
  t.equal(own.capability.length, 19);
  t.same(editX86Cpu(REAL, (c) => c), REAL, 'an edit that changes nothing gives back the same bytes');
  const older = olderCpu(REAL);
  t.equal(cpuinfoImageProblem(older), undefined);
  t.match(readX86Cpu(older), { xsaveSize: 832, xfeaturesMask: 0x5n });
  t.equal(readX86Cpu(olderCpu(editX86Cpu(REAL, (c) => ({ ...c, xsaveSize: 832 })))).xsaveSize, 576, 'a CPU whose own frame is 832 bytes gets another size');
  t.same(missingInstruction(REAL), { name: 'HLE', bit: 4 }, 'the recorded CPU has no TSX');
  t.equal((readX86Cpu(cpuWithExtraInstruction(REAL)).capability[9] ?? 0) & 0x10, 0x10, 'HLE set');
  const withTsx = editX86Cpu(REAL, (c) => ({ ...c, capability: c.capability.map((w, i) => (i === 9 ? (w | 0x810) >>> 0 : w)) }));
  t.same(missingInstruction(withTsx), { name: 'MPX', bit: 14 }, 'on a CPU with TSX another instruction is made up');
  const everything = editX86Cpu(REAL, (c) => ({ ...c, capability: c.capability.map((w, i) => (i === 9 ? (w | 0x0c004810) >>> 0 : w)) }));
  t.throws(() => missingInstruction(everything), /no instruction left/, 'a CPU with all of them is said so, not tested wrongly');
});
