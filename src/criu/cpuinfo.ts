/**
 * Running `criu cpuinfo dump` (the source describes its CPU) and `criu cpuinfo check` (the target compares that
 * description with its own CPU), each in a private scratch directory removed afterwards. Neither freezes or
 * touches a process.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeResult, lastLines, run } from '../util/run.js';
import { ensurePrivateDir, removeQuietly } from '../util/files.js';
import { runDir } from '../util/run-dir.js';
import { CPUINFO_IMAGE, cpuinfoCheckArgs, cpuinfoDumpArgs, cpuinfoImageProblem, cpuVerdict, type CpuVerdict } from './cpuinfo-image.js';

const CPUINFO_TIMEOUT_MS = 10_000;

async function inScratchDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  ensurePrivateDir(runDir());
  const dir = mkdtempSync(join(runDir(), 'cpuinfo-'));
  try {
    return await use(dir);
  } finally {
    removeQuietly(dir);
  }
}

/** This node's CPU as CRIU describes it (cpuinfo.img); throws with CRIU's reason when it cannot. */
export function dumpCpuinfo(binary: string): Promise<Buffer> {
  return inScratchDir(async (dir) => {
    const r = await run(binary, cpuinfoDumpArgs(dir), { allowFailure: true, timeoutMs: CPUINFO_TIMEOUT_MS });
    if (r.exitCode !== 0) throw new Error(`${r.command}: ${describeResult(r)}${r.stderr ? `: ${lastLines(r.stderr)}` : ''}`);
    return readFileSync(join(dir, CPUINFO_IMAGE));
  });
}

/** Whether a checkpoint made on the CPU `image` describes can run on this node's CPU. */
export function checkCpuinfo(binary: string, image: Buffer): Promise<CpuVerdict> {
  const problem = cpuinfoImageProblem(image);
  if (problem) return Promise.resolve({ result: 'unknown', reason: problem });
  return inScratchDir(async (dir) => {
    writeFileSync(join(dir, CPUINFO_IMAGE), image, { mode: 0o600 });
    const r = await run(binary, cpuinfoCheckArgs(dir), { allowFailure: true, timeoutMs: CPUINFO_TIMEOUT_MS });
    return cpuVerdict(r.exitCode, `${r.stdout}\n${r.stderr}`);
  });
}
