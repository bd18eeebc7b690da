/**
 * Whether the target's CPU can run a checkpoint made on this node's, before anything is frozen (vzmigrate's
 * cpu_check): this node describes its CPU (criu cpuinfo dump), the target's helper compares that with its own
 * CPU (criu cpuinfo check) and answers. A mismatch is fatal unless forced (cpu_check_force, ferry check --force,
 * like pmigrate -f). Without a helper to ask, the answer is unknown, never guessed, and unknown is fatal too unless
 * forced: a checkpoint restored on a CPU that lacks what the source had crashes there, and nothing else would stop it
 * (fail closed).
 */
import { cpuCompatibility } from '../helper/client.js';
import { dumpCpuinfo } from '../criu/cpuinfo.js';
import { CPU_CAP, type CpuVerdict } from '../criu/cpuinfo-image.js';
import { currentDeadline } from '../util/deadline.js';
import type { Finding } from './finding.js';
import type { PeerView } from './peer.js';

export const CPU_CHECK = 'target CPU';
const CPU_CHECK_TIMEOUT_MS = 15_000;

/** Pure: the finding for the target's verdict, or for why there is none. */
export function cpuFinding(target: string, outcome: CpuVerdict, force: boolean): Finding {
  const finding = (ok: boolean, fatal: boolean, detail: string): Finding => ({ check: CPU_CHECK, ok, fatal, detail, kind: 'refused' });
  switch (outcome.result) {
    case 'compatible':
      return finding(true, false, `${target} can run what this CPU runs (criu cpuinfo check --cpu-cap=${CPU_CAP} passes there)`);
    case 'unknown':
      return force
        ? { ...finding(false, false, `unknown (${outcome.reason}): the CPUs were not compared, migrating anyway (forced): `
          + `a process using an instruction or FPU state missing on ${target} will crash after the restore`), unknown: true }
        : { ...finding(false, true, `unknown (${outcome.reason}): ${target}'s CPU could not be compared with this one, and a `
          + `checkpoint restored on a CPU lacking an instruction or FPU state of this one crashes there; run ferry serve on `
          + `${target} with the same authkey, or set cpu_check_force=true (ferry check --force) to migrate without comparing`), unknown: true };
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
