/**
 * The checks made on the source before anything is frozen (like vzmigrate --check-only): migrate_to stops at
 * the first fatal one; `ferry check` reports them all. Each finding carries the kind of failure it makes.
 */
import { release } from 'node:os';
import type { FailureKind } from '../util/errors.js';
import type { Finding } from './finding.js';
import { capabilities, type Capabilities } from '../criu/capabilities.js';
import { attachedFromOutside } from '../runtime/attached.js';
import { namespaceOf, processesInPidNamespace } from '../util/proc.js';
import { residentBytes } from '../util/memory.js';
import { freeBytes, stateDirProblem } from '../storage/state-store.js';
import { planMigration, type Plan } from './plan.js';
import type { EngineContext } from './context.js';
import { pairFeatures, peerFeatures, type PeerView } from './peer.js';
import { storageFor } from '../storage/lifecycle.js';
import { checkTargetCpu } from './cpu-check.js';
import { checkTargetImage } from './image-check.js';

const NO_FEATURES = { memDirtyTrack: false, uffdNoncoop: false };

/** Images need about the resident memory plus metadata; a margin so a full disk is refused up front. */
const SPACE_FACTOR = 1.2;
const SPACE_SLACK = 16 * 1024 * 1024;

/** CRIU before 4.2 cannot dump IPv4/IPv6 sockets on kernels from 6.16 on ("Can't get 1:16 opt"). */
export function criuTooOldForKernel(criuVersion: string | undefined, kernelRelease: string): boolean {
  const [kMaj = 0, kMin = 0] = kernelRelease.split(/[.-]/).map(Number);
  const [cMaj = 0, cMin = 0] = (criuVersion ?? '0.0').split('.').map(Number);
  const newKernel = kMaj > 6 || (kMaj === 6 && kMin >= 16);
  return newKernel && (cMaj < 4 || (cMaj === 4 && cMin < 2));
}

export interface Precheck {
  findings: Finding[];
  pid: number | undefined;
  caps: Capabilities | undefined;
  plan: Plan | undefined;
}

/** `forceCpu` (ferry check --force) overrides a CPU mismatch as cpu_check_force=true does. */
export async function precheck(ctx: EngineContext, target: string, peer?: PeerView, forceCpu = false): Promise<Precheck> {
  const { config, driver } = ctx;
  const findings: Finding[] = [];
  const add = (check: string, ok: boolean, detail: string, kind: FailureKind = 'refused', fatal = !ok) =>
    findings.push({ check, ok, fatal, detail, kind });

  const pid = driver.checkpointRoot();
  add('running here', pid !== undefined, pid !== undefined ? `init pid ${pid}` : `container ${config.name} is not running on ${ctx.localNode}: nothing to migrate`);
  add('target', target !== ctx.localNode, target !== ctx.localNode ? target : `migration target ${target} is this node`, 'bad-request');
  const dirProblem = stateDirProblem(config.state_dir ?? '');
  add('state_dir', dirProblem === undefined, dirProblem ?? `${config.state_dir} usable`, 'not-installed');

  const caps = await capabilities(config.criu_binary).catch(() => undefined);
  add('criu check', caps?.criuCheck.ok === true, caps ? `${config.criu_binary} ${caps.criuVersion ?? '?'}: ${caps.criuCheck.output}` : `${config.criu_binary} cannot be run`, 'not-installed');
  if (caps) {
    const tooOld = criuTooOldForKernel(caps.criuVersion, release());
    add('criu vs kernel', !tooOld, tooOld ? `CRIU ${caps.criuVersion} cannot checkpoint TCP sockets on kernel ${release()}: CRIU 4.2 or later is needed` : `CRIU ${caps.criuVersion} on kernel ${release()}`, 'not-installed');
    add('network lock', true, `CRIU locks connections with ${caps.networkLock} while it checkpoints`);
  }
  if (config.storage === 'drbd') {
    const problem = await storageFor(config).handOffProblem().catch((err: unknown) => `cannot read the DRBD state: ${err instanceof Error ? err.message : String(err)}`);
    add('drbd', problem === undefined, problem ?? `${config.drbd_resource ?? '?'} Primary here, the peer connected and UpToDate`);
  }
  const theirs = peerFeatures(peer);
  if (peer) {
    add('target features', theirs !== undefined, theirs
      ? `${target}: criu check ${theirs.criuCheckOk ? 'passes' : 'FAILS'}, soft-dirty ${theirs.memDirtyTrack ? 'yes' : 'no'}, userfaultfd ${theirs.uffdNoncoop ? 'yes' : 'no'}`
      : `unknown (${peer.problem ?? `the helper of ${target} has not finished its own checks`}): planned from this node's features alone`, 'refused', false);
    // advisory: the helper's CRIU (ferry serve --criu) need not be the resource's criu_binary
    if (theirs && !theirs.criuCheckOk) add('target criu check', false, `criu check of ${target}'s helper fails there (ferry serve --criu): the restore may too`, 'not-installed', false);
    // before the CPU: without a usable network the target's helper is not asked, and this is the reason to give
    const network = peer.choice?.decision;
    if (network && !network.ok && config.require_migration_network) add('migration network', false, network.reason);
    if (caps) findings.push(await checkTargetCpu(config.criu_binary, peer, forceCpu || config.cpu_check_force));
    if (driver.imageId && config.image) findings.push(await checkTargetImage(peer, config.image, () => driver.imageId?.() ?? Promise.resolve(undefined)));
  }
  const features = { ...pairFeatures(caps ?? NO_FEATURES, theirs, target), runtimePrecopyProblem: driver.limits.precopy, runtimeLazyProblem: driver.limits.lazy };
  const plan = caps ? planMigration(config.migration_type, features, config.migration_type_strict) : undefined;
  if (plan) {
    add('migration type', plan.ok, plan.ok ? `${plan.type}${plan.fallbacks.length ? ` (${plan.fallbacks.join('; ')})` : ''}` : plan.reason);
  }

  const pidNamespace = pid !== undefined ? namespaceOf(pid, 'pid') : undefined;
  if (pid !== undefined && pidNamespace) {
    const intruders = attachedFromOutside(pid, pidNamespace);
    add('attached processes', intruders.length === 0, intruders.length === 0 ? 'none'
      : `process(es) attached from outside the container cannot be checkpointed with it: ${intruders.map((i) => `${i.pid} (${i.command})`).join(', ')}; end them and retry`);
    if (dirProblem === undefined && config.state_dir) {
      const need = Math.round(residentBytes(processesInPidNamespace(pidNamespace)) * SPACE_FACTOR) + SPACE_SLACK;
      const free = freeBytes(config.state_dir);
      add('space', free >= need, `state_dir ${config.state_dir} has ${(free / 1048576).toFixed(0)} MiB free, the checkpoint needs about ${(need / 1048576).toFixed(0)} MiB`);
      if (theirs) {
        const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
        add('target memory', theirs.memAvailableBytes >= need - SPACE_SLACK, `${target} has ${mib(theirs.memAvailableBytes)} available, the container uses about ${mib(need - SPACE_SLACK)}`);
        if (config.storage === 'none') {
          add('target space', theirs.dirFreeBytes >= need, `${target}'s state_dir has ${mib(theirs.dirFreeBytes)} free, the checkpoint needs about ${mib(need)}`);
        }
      }
    }
  }
  return { findings, pid, caps, plan };
}
