/** Value checks several parts of the parameter table share; each returns the typed value or throws a plain Error. */
import { ipFamily } from '../util/ip.js';
import { absolutePath, matching } from './param-types.js';

const COMMAND_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}$/;

export function cidr(raw: string): { address: string; prefix: number } {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(raw);
  const family = m ? ipFamily(m[1] ?? '') : 0;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || family === 0 || prefix > (family === 4 ? 32 : 128) || (family === 4 && prefix < 1)) {
    throw new Error(`"${raw}" is not an address with a prefix length, like 10.78.0.50/24`);
  }
  return { address: m[1] as string, prefix };
}

export function ipAddress(raw: string): string {
  if (ipFamily(raw) === 0) throw new Error(`"${raw}" is not an IP address`);
  return raw;
}

export function executable(raw: string): string {
  if (raw === '.' || raw === '..') throw new Error(`"${raw}" is not a command name`);
  return raw.startsWith('/') ? absolutePath(raw) : matching(COMMAND_NAME, 'an absolute path or a command name')(raw);
}

/** True when `path` is `dir` or inside it. */
export function isInside(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(d);
}
