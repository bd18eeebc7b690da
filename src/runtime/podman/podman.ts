/**
 * Running podman for Ferry. podman checks CRIU's version itself and runc execs `criu` from PATH, and neither may
 * get the system's criu (there is none that works on kernels from 6.16 on with Debian 12's 3.17): each podman call
 * gets a PATH whose first directory is Ferry's own, holding a `criu` symlink to the resource's criu_binary. A
 * `--runtime-flag criu=PATH` alone is not enough: podman's own check still looks in PATH ("checkpoint/restore
 * requires at least CRIU 31100", measured with podman 4.3.1). The system's criu and /etc/criu are never touched.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDir } from '../../util/run-dir.js';
import { run, lastLines, type RunResult } from '../../util/run.js';
import { which } from '../../util/which.js';
import { notInstalled } from '../../util/errors.js';
import { criuConfigText } from './args.js';
import { parseContainerInspect, parseImageId, saysMissing, type PodmanContainer } from './output.js';

const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The same path on every node: it is baked into the container's annotations, which travel with the checkpoint. */
export const podmanDir = (): string => join(runDir(), 'podman');
export const criuConfigPath = (): string => join(podmanDir(), 'criu.conf');
const binDir = (): string => join(podmanDir(), 'bin');

/** Points Ferry's `criu` at criu_binary (replaced atomically when it changed) and returns podman's PATH. */
function criuPath(criuBinary: string): string {
  const target = which(criuBinary);
  if (!target) throw notInstalled(`criu_binary ${criuBinary} not found or not executable on this node`);
  mkdirSync(binDir(), { recursive: true, mode: 0o700 });
  const link = join(binDir(), 'criu');
  let current: string | undefined;
  try { current = readlinkSync(link); } catch { /* none yet */ }
  if (current !== target) {
    const tmp = `${link}.${process.pid}`;
    symlinkSync(target, tmp);
    renameSync(tmp, link);
  }
  return `${binDir()}:${process.env.PATH || FALLBACK_PATH}`;
}

/** CRIU's options for the next dump; a restore reads the lock method from the images, any content does. */
export function writeCriuConfig(networkLock: 'iptables' | 'nftables' | undefined): void {
  mkdirSync(podmanDir(), { recursive: true, mode: 0o700 });
  if (networkLock === undefined && existsSync(criuConfigPath())) return;
  const text = criuConfigText(networkLock ?? 'nftables');
  try {
    if (readFileSync(criuConfigPath(), 'utf8') === text) return;
  } catch { /* written below */ }
  const tmp = `${criuConfigPath()}.${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, criuConfigPath());
}

export interface PodmanOptions { timeoutMs?: number | undefined; allowFailure?: boolean }

export async function podman(criuBinary: string, args: string[], o: PodmanOptions = {}): Promise<RunResult> {
  return run('podman', args, {
    env: { PATH: criuPath(criuBinary) },
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.allowFailure ? { allowFailure: true } : {}),
    killTree: true,
  });
}

/** The container of that name on this node, or undefined when podman has none. */
export async function inspectContainer(criuBinary: string, name: string): Promise<PodmanContainer | undefined> {
  const r = await podman(criuBinary, ['container', 'inspect', name], { allowFailure: true, timeoutMs: 20_000 });
  if (r.exitCode === 0) return parseContainerInspect(r.stdout);
  if (saysMissing(r.stderr)) return undefined;
  throw new Error(`podman container inspect ${name} failed: ${lastLines(r.stderr, 2)}`);
}

/** The image's ID on this node, or undefined when this node does not have it. */
export async function imageId(criuBinary: string, image: string): Promise<string | undefined> {
  const r = await podman(criuBinary, ['image', 'inspect', image], { allowFailure: true, timeoutMs: 20_000 });
  if (r.exitCode === 0) return parseImageId(r.stdout);
  if (saysMissing(r.stderr)) return undefined;
  throw new Error(`podman image inspect ${image} failed: ${lastLines(r.stderr, 2)}`);
}

/** Removes the container of that name with whatever it still runs (SIGKILL); nothing when there is none. */
export async function removeContainer(criuBinary: string, name: string): Promise<void> {
  const r = await podman(criuBinary, ['rm', '--force', '--ignore', '--time', '0', name], { allowFailure: true, timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`podman rm ${name} failed: ${lastLines(r.stderr, 2)}`);
}
