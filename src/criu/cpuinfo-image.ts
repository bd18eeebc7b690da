/**
 * CRIU's CPU description (`criu cpuinfo dump` writes cpuinfo.img, `criu cpuinfo check` compares it with the CPU
 * it runs on), as the pre-migration CPU check uses it. Pure: the command lines, what an image a peer sends may
 * look like, and what CRIU's answer means.
 *
 * CRIU writes and checks cpuinfo.img during dump and restore only when given --cpu-cap, which Ferry does not
 * pass: without this check nothing stops a container from being restored on a CPU that lacks instructions it
 * uses, and it then dies of SIGILL, or of a corrupted FPU state, after the migration has "succeeded".
 */

/**
 * What is compared: "fpu" (the FPU/xsave features and xsave frame sizes must match, a richer target is refused
 * too, because libc sizes signal frames from them) and "ins" (every instruction set extension the source has,
 * the target must have). CRIU's own default for dump and restore; "cpu" (every CPUID bit equal) would refuse
 * nodes that differ in bits no program uses.
 */
export const CPU_CAP = 'fpu,ins';

/** cpuinfo.img is 131 bytes on x86; far more than any architecture's entry needs, far less than a threat. */
export const MAX_CPUINFO_IMAGE_BYTES = 4096;

/** Every CRIU image starts with IMG_COMMON_MAGIC and the image's own magic (CPUINFO_MAGIC), little-endian. */
const IMG_COMMON_MAGIC = 0x54564319;
const CPUINFO_MAGIC = 0x61404013;

export const CPUINFO_IMAGE = 'cpuinfo.img';

export function cpuinfoDumpArgs(dir: string): string[] {
  return ['cpuinfo', 'dump', '--images-dir', dir];
}

export function cpuinfoCheckArgs(dir: string): string[] {
  return ['cpuinfo', 'check', '--images-dir', dir, `--cpu-cap=${CPU_CAP}`];
}

/** Why `image` is not a cpuinfo image this node should hand to CRIU, or undefined when it may be. */
export function cpuinfoImageProblem(image: Buffer): string | undefined {
  if (image.length > MAX_CPUINFO_IMAGE_BYTES) return `cpuinfo image of ${image.length} bytes refused (at most ${MAX_CPUINFO_IMAGE_BYTES})`;
  if (image.length < 12) return 'cpuinfo image too short';
  if (image.readUInt32LE(0) !== IMG_COMMON_MAGIC || image.readUInt32LE(4) !== CPUINFO_MAGIC) return 'not a CRIU cpuinfo image (wrong magic)';
  const entry = image.readUInt32LE(8);
  if (entry !== image.length - 12) return `cpuinfo image announces ${entry} bytes of entry but carries ${image.length - 12}`;
  return undefined;
}

/** The target's answer: compatible, incompatible (CRIU named the difference), or the check could not be made. */
export type CpuVerdict =
  | { result: 'compatible' }
  | { result: 'incompatible'; reason: string }
  | { result: 'unknown'; reason: string };

/** The messages of criu/arch/<arch>/cpu.c that report a real difference between the image and this CPU. */
const MISMATCH = [
  /FPU feature required by image is not supported/,
  /xfeatures has unsupported bits/,
  /xsave (max )?size mismatch/,
  /instruction capabilities do not match/,
  /capabilit(ies|es) do not match/,
  /No \w+ related cpuinfo in image/,
  /HWCAP/,
];

/** CRIU's error lines without the source location: "cpu: CPU xsave size mismatch (10880/11008)". */
function errorLines(output: string): string[] {
  return output.split('\n')
    .filter((l) => /Error/.test(l) && !l.includes('RLIMIT_NOFILE'))
    .map((l) => l.replace(/^\(\d+\.\d+\)\s*/, '').replace(/^Error \([^)]*\):\s*/, '').trim());
}

export function cpuVerdict(exitCode: number, output: string): CpuVerdict {
  if (exitCode === 0) return { result: 'compatible' };
  const errors = errorLines(output);
  const mismatch = errors.filter((l) => MISMATCH.some((m) => m.test(l)));
  if (mismatch.length) return { result: 'incompatible', reason: mismatch.join(' | ') };
  return { result: 'unknown', reason: errors.join(' | ') || output.trim().split('\n').slice(-1)[0] || `criu cpuinfo check exit ${exitCode} without saying why` };
}

const REASON_CHARS = 500;

/** A verdict as a peer's helper sent it, taken only in the shapes above (anything else: the check is unknown). */
export function asCpuVerdict(raw: unknown): CpuVerdict {
  const v = (raw ?? {}) as Record<string, unknown>;
  const reason = typeof v.reason === 'string' ? v.reason.slice(0, REASON_CHARS) : '';
  if (v.result === 'compatible') return { result: 'compatible' };
  if (v.result === 'incompatible' && reason) return { result: 'incompatible', reason };
  return { result: 'unknown', reason: reason || 'the helper\'s answer is not a CPU verdict' };
}
