/** `OCF_RESKEY_*` → typed Config through the parameter table, then the checks that span several parameters. */
import { inSubnet, isLinkLocal } from '../util/ip.js';
import { ParamError } from './param-types.js';
import { PARAMS, type Config, type ParamName } from './params.js';

export interface ConfigResult {
  config: Config | undefined;
  errors: ParamError[];
}

export function parseConfig(env: NodeJS.ProcessEnv): ConfigResult {
  const errors: ParamError[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(PARAMS) as ParamName[]) {
    try {
      values[name] = PARAMS[name].parse(name, env[`OCF_RESKEY_${name}`]);
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      errors.push(err);
    }
  }
  if (errors.length > 0) return { config: undefined, errors };
  const config = values as Config;
  errors.push(...crossChecks(config));
  return { config: errors.length ? undefined : config, errors };
}

/** A default gateway must be on the container's own subnet (or, for IPv6, link-local). */
function gatewayReachable(gateway: string, address: string, prefix: number): boolean {
  return inSubnet(gateway, address, prefix) || (address.includes(':') && isLinkLocal(gateway));
}

function crossChecks(c: Config): ParamError[] {
  const problems: ParamError[] = [];
  if (c.driver === 'native' && c.command === undefined) {
    problems.push(new ParamError('command', 'is required with driver=native'));
  }
  if (c.ip && !c.bridge) problems.push(new ParamError('ip', 'needs bridge (the host bridge the container joins)'));
  if (c.mac && !c.bridge) problems.push(new ParamError('mac', 'needs bridge (the container has no eth0 without one)'));
  if (c.gateway && !c.ip) problems.push(new ParamError('gateway', 'needs ip'));
  if (c.gateway && c.ip && c.gateway.includes(':') !== c.ip.address.includes(':')) {
    problems.push(new ParamError('gateway', 'is not of the same address family as ip'));
  } else if (c.gateway && c.ip && !gatewayReachable(c.gateway, c.ip.address, c.ip.prefix)) {
    problems.push(new ParamError('gateway', `${c.gateway} is not inside ${c.ip.address}/${c.ip.prefix}${c.ip.address.includes(':') ? ' nor link-local' : ''}: the container could not reach it`));
  }
  if (c.storage === 'drbd') {
    if (!c.drbd_resource) problems.push(new ParamError('drbd_resource', 'is required with storage=drbd'));
    if (!c.mount_point) problems.push(new ParamError('mount_point', 'is required with storage=drbd'));
    else if (c.state_dir && !isInside(c.state_dir, c.mount_point)) {
      problems.push(new ParamError('state_dir', `must be inside mount_point ${c.mount_point} with storage=drbd (the checkpoint moves with the device)`));
    }
  }
  return problems;
}

function isInside(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(d);
}

/** Parameters a live migration needs beyond those start needs. */
export function migrationProblems(c: Config): ParamError[] {
  return c.state_dir === undefined
    ? [new ParamError('state_dir', 'is required for live migration (allow-migrate=true): set it to a directory on shared storage')]
    : [];
}

/**
 * The lenient reading stop uses when the configuration is invalid: every parameter that does not parse falls
 * back to its default, so a container that was started under an earlier, valid configuration can still be
 * found by its name and stopped. Undefined when even the name is unusable (then nothing can be running).
 */
export function parseConfigForStop(env: NodeJS.ProcessEnv): Config | undefined {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(PARAMS) as ParamName[]) {
    const param = PARAMS[name];
    try {
      values[name] = param.parse(name, env[`OCF_RESKEY_${name}`]);
    } catch {
      if (param.required) return undefined;
      values[name] = param.parse(name, undefined);
    }
  }
  return values as Config;
}
