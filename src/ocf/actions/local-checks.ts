/** Checks of this node against the configuration: programs, CRIU (returning what it can do), state_dir, bridge. Each failure has its OCF code. */
import { OCF, OcfError } from '../exit-codes.js';
import type { Config } from '../params.js';
import { which } from '../../util/which.js';
import { stateDirProblem } from '../../storage/state-store.js';
import type { Capabilities } from '../../criu/capabilities.js';

const NATIVE_PROGRAMS = ['unshare', 'nsenter', 'setsid', 'ip', 'hostname'];

export function requirePrograms(config: Config): void {
  const missing = NATIVE_PROGRAMS.filter((p) => !which(p));
  if (missing.length) throw new OcfError(OCF.ERR_INSTALLED, `required program(s) not found on this node: ${missing.join(', ')}`);
  // CRIU is needed only where checkpoints are written or resumed
  if (config.state_dir && !which(config.criu_binary)) {
    throw new OcfError(OCF.ERR_INSTALLED, `criu_binary ${config.criu_binary} not found or not executable on this node`);
  }
}

export async function requireBridge(config: Config): Promise<void> {
  if (!config.bridge) return;
  const { bridgeExists } = await import('../../runtime/native/network.js');
  if (!(await bridgeExists(config.bridge))) {
    throw new OcfError(OCF.ERR_INSTALLED, `bridge ${config.bridge} does not exist on this node`);
  }
}

export function requireStateDir(config: Config): void {
  if (!config.state_dir) return;
  const problem = stateDirProblem(config.state_dir);
  if (problem) throw new OcfError(OCF.ERR_INSTALLED, problem);
}

export async function requireCriuWorks(config: Config): Promise<Capabilities> {
  if (!which(config.criu_binary)) {
    throw new OcfError(OCF.ERR_INSTALLED, `criu_binary ${config.criu_binary} not found or not executable on this node`);
  }
  const { capabilities } = await import('../../criu/capabilities.js');
  const caps = await capabilities(config.criu_binary);
  if (!caps.criuCheck.ok) throw new OcfError(OCF.ERR_INSTALLED, `criu check fails on this node: ${caps.criuCheck.output}`);
  return caps;
}
