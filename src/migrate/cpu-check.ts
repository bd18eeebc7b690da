/**
 * Whether the target's CPU can run a checkpoint made on this node's, before anything is frozen (vzmigrate's
 * cpu_check): this node describes its CPU (criu cpuinfo dump), the target's helper compares that with its own
 * CPU (criu cpuinfo check) and answers. A mismatch is fatal unless forced (cpu_check_force, ferry check --force,
 * like pmigrate -f); without a helper to ask, the answer is unknown, never guessed.
 */
import { OCF } from '../ocf/exit-codes.js';
import { cpuCompatibility } from '../helper/client.js';
import { dumpCpuinfo } from '../criu/cpuinfo.js';
import { CPU_CAP, type CpuVerdict } from '../criu/cpuinfo-image.js';
import { currentDeadline } from '../util/deadline.js';
import type { Finding } from './precheck.js';
import type { PeerView } from './peer.js';

export const CPU_CHECK = 'target CPU';
const CPU_CHECK_TIMEOUT_MS = 15_000;

/** Pure: the finding for the target's verdict, or for why there is none. */
export function cpuFinding(target: string, outcome: CpuVerdict, force: boolean): Finding {
  const finding = (ok: boolean, fatal: boolean, detail: string): Finding => ({ check: CPU_CHECK, ok, fatal, detail, code: OCF.ERR_GENERIC });
  switch (outcome.result) {
    case 'compatible':
      return finding(true, false, `${target} can run what this CPU runs (criu cpuinfo check --cpu-cap=${CPU_CAP} passes there)`);
    case 'unknown':
      return finding(false, false, `unknown (${outcome.reason}): ${target}'s CPU was not compared with this one`);
    case 'incompatible':
      return force
        ? finding(false, false, `${target}'s CPU differs from this one (${outcome.reason}), migrating anyway (forced): `
          + `a process using an instruction or FPU state missing there will crash after the restore`)
        : finding(false, true, `${target}'s CPU cannot run a checkpoint of this one (${outcome.reason}): restored there, the `
          + `container's processes could crash; migrate to a node with the same CPU, or stop it and start it there `
          + `(a fresh start is not affected); cpu_check_force=true (ferry check --force) overrides`);
  }
}

/** Asks the target's helper; every way of not getting a verdict becomes "unknown" with its reason. */
export async function targetCpuVerdict(criuBinary: string, peer: PeerView | undefined): Promise<CpuVerdict> {
  const helper = peer?.helper;
  if (!helper) return { result: 'unknown', reason: peer?.problem ?? `no helper of ${peer?.target ?? 'the target'} answered` };
  let image: Buffer;
  try {
    image = await dumpCpuinfo(criuBinary);
  } catch (err) {
    return { result: 'unknown', reason: `this node's CPU cannot be described: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    return await cpuCompatibility({ ...helper, timeoutMs: currentDeadline().bound(CPU_CHECK_TIMEOUT_MS) ?? CPU_CHECK_TIMEOUT_MS }, image);
  } catch (err) {
    return { result: 'unknown', reason: err instanceof Error ? err.message : String(err) };
  }
}

export async function checkTargetCpu(criuBinary: string, peer: PeerView, force: boolean): Promise<Finding> {
  return cpuFinding(peer.target, await targetCpuVerdict(criuBinary, peer), force);
}
