/**
 * Drives the two-node Pacemaker lab (test/lab/lab.sh) from tap tests.
 *
 * Everything goes through lab.sh, so the namespace layout lives in one place. Commands are argument arrays,
 * never shell strings. nodeExec/clientExec never throw on a non-zero exit (tests look at exitCode); crm() is the
 * throwing convenience for the Pacemaker tools.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lab nodes: node1 and node2 (full cluster nodes); 3 and 4 are remote1 and remote2 (Pacemaker Remote, labUp({ remotes })). */
export type NodeId = 1 | 2 | 3 | 4;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** -1 when the command was killed by a signal (see timedOut) */
  exitCode: number;
  timedOut: boolean;
}

export interface ExecOptions {
  /** kill the command (SIGTERM) after this long; default 120 s */
  timeoutMs?: number;
  /** added to the environment (which is the test's, minus tap's and Node's loader variables) */
  env?: Record<string, string>;
  /** written to the command's stdin */
  input?: string;
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** what is awaited, for the timeout message: "smoke-dummy running on node2" */
  what: string;
}

/** The repository root: the nearest ancestor holding test/lab/lab.sh (works from test/lab and dist/test/lab). */
function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    if (existsSync(join(dir, 'test', 'lab', 'lab.sh'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find test/lab/lab.sh above ${fileURLToPath(import.meta.url)}`);
}

export const REPO = findRepo();
export const LAB_SH = join(REPO, 'test', 'lab', 'lab.sh');
export const LAB_DIR = process.env.FERRY_LAB_DIR ?? '/tmp/ferry-lab';
/** Visible to both nodes at the same path: stands in for shared storage (NFS, CephFS...). */
export const SHARED_DIR = join(LAB_DIR, 'shared');
export const WORKLOAD_DIR = join(REPO, 'test', 'lab', 'workload');
export const nodeName = (n: NodeId): string => (n <= 2 ? `node${n}` : `remote${n - 2}`);

/**
 * The environment for commands in the lab: the test's own, without the variables tap and its TypeScript loader
 * set for Node children. The agent is a Node program; with tap's NODE_OPTIONS it would load tap's hooks.
 */
function labEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(NODE_OPTIONS|TAP|TAP_.*|_TAPJS_.*|TS_NODE_.*|TSIMP_.*)$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

async function labSh(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  // tap's processinfo adds NODE_OPTIONS (its loader) to every child's environment after labEnv() has removed it;
  // env -u drops it again, so agents run in the lab load nothing of tap's (about 150 ms a run)
  const r = await execa('env', ['-u', 'NODE_OPTIONS', 'sh', LAB_SH, ...args], {
    reject: false,
    timeout: opts.timeoutMs ?? 120_000,
    env: labEnv(opts.env),
    extendEnv: false,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
  });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1, timedOut: r.timedOut };
}

/** A failed lab command: a one-line message (tap prints it on the "not ok" line) plus its full output. */
export class LabError extends Error {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  constructor(what: string, r: ExecResult) {
    const how = r.timedOut ? 'timed out' : `exited ${r.exitCode}`;
    const firstLine = r.stderr.split('\n').find((l) => l.trim() !== '') ?? '';
    super(`${what} ${how}${firstLine ? `: ${firstLine}` : ''}`);
    this.name = 'LabError';
    this.stdout = r.stdout;
    this.stderr = r.stderr;
    this.exitCode = r.exitCode;
  }
}

/**
 * Builds the lab from scratch (removing leftovers first); resolves when both nodes are online. `fencing`: with a
 * real fence device and stonith-enabled=true (lab.sh, FERRY_LAB_FENCING). `remotes`: with remote1 and remote2,
 * Pacemaker Remote nodes (FERRY_LAB_REMOTES), online too.
 */
export async function labUp(opts: { timeoutMs?: number; fencing?: boolean; remotes?: boolean } = {}): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  const env = { ...(opts.fencing ? { FERRY_LAB_FENCING: '1' } : {}), ...(opts.remotes ? { FERRY_LAB_REMOTES: '1' } : {}) };
  const r = await labSh(['up'], { timeoutMs: opts.timeoutMs ?? 150_000, env });
  if (r.exitCode !== 0) throw new LabError('lab.sh up', r);
  return { ms: Math.round(performance.now() - started), output: r.stdout };
}

/** Stops and removes everything the lab made. Idempotent. */
export async function labDown(opts: { timeoutMs?: number } = {}): Promise<void> {
  const r = await labSh(['down'], { timeoutMs: opts.timeoutMs ?? 150_000 });
  if (r.exitCode !== 0) throw new LabError('lab.sh down', r);
}

/** Node N dies as if its power were cut (every process of it SIGKILLed, its addresses gone): lab.sh power-off. */
export async function powerOff(node: NodeId): Promise<void> {
  const r = await labSh(['power-off', String(node)], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new LabError(`lab.sh power-off ${node}`, r);
}

/** Node N boots again and rejoins the cluster (fresh /run, corosync, pacemaker, ferry serve). */
export async function powerOn(node: NodeId): Promise<void> {
  const r = await labSh(['power-on', String(node)], { timeoutMs: 150_000 });
  if (r.exitCode !== 0) throw new LabError(`lab.sh power-on ${node}`, r);
}

export async function powerState(node: NodeId): Promise<'on' | 'off'> {
  return (await labSh(['power-state', String(node)], { timeoutMs: 30_000 })).stdout.trim() === 'on' ? 'on' : 'off';
}

export async function labStatus(): Promise<string> {
  return (await labSh(['status'], { timeoutMs: 30_000 })).stdout;
}

/** Runs a command inside node N (its network, mount and UTS namespaces). Never throws on a non-zero exit. */
export async function nodeExec(node: NodeId, cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
  return labSh(['exec', String(node), cmd, ...args], opts);
}

/**
 * Runs a command in the client namespace (10.78.0.100, on node1's bridge). Start it without awaiting to keep
 * a client running across a migration, then await the promise.
 */
export async function clientExec(cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
  return labSh(['exec', 'cl', cmd, ...args], opts);
}

export type CrmTool =
  | 'crm_resource' | 'cibadmin' | 'crm_mon' | 'crm_attribute' | 'crm_node' | 'crm_failcount' | 'crm_verify'
  | 'crm_simulate' | 'crm';

/** Runs a Pacemaker tool on node N: crm(1, ['crm_resource', '--locate', '-r', 'x']). Throws on a non-zero exit. */
export async function crm(node: NodeId, args: [CrmTool, ...string[]], opts: ExecOptions = {}): Promise<string> {
  const [tool, ...rest] = args;
  const r = await nodeExec(node, tool, rest, { timeoutMs: 60_000, ...opts });
  if (r.exitCode !== 0) throw new LabError(`${tool} ${rest.join(' ')} on ${nodeName(node)}`, r);
  return r.stdout;
}

/** crm_mon's XML status as node N sees it. */
export async function crmMonXml(node: NodeId): Promise<string> {
  return crm(node, ['crm_mon', '-1', '--output-as=xml']);
}

/** Names of the nodes crm_mon reports online. */
export async function onlineNodes(node: NodeId): Promise<string[]> {
  const xml = await crmMonXml(node);
  return [...xml.matchAll(/<node name="([^"]+)"[^>]*\sonline="true"/g)].map((m) => m[1] ?? '');
}

/** Nodes where the resource is active (crm_resource --locate); empty when it runs nowhere. */
export async function resourceNodes(node: NodeId, rsc: string): Promise<string[]> {
  const out = await crm(node, ['crm_resource', '--locate', '-r', rsc, '--quiet']);
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** A resource as crm_mon shows it: its role and the nodes it is active on; undefined when not configured. */
export async function crmMonResource(node: NodeId, rsc: string): Promise<{ role: string; nodes: string[] } | undefined> {
  const xml = await crmMonXml(node);
  const id = rsc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`<resource id="${id}"([^>]*?)(/>|>([\\s\\S]*?)</resource>)`).exec(xml);
  if (!m) return undefined;
  const role = /\srole="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '';
  const nodes = [...(m[3] ?? '').matchAll(/<node name="([^"]+)"/g)].map((n) => n[1] ?? '');
  return { role, nodes };
}

/** crm_mon's failed actions, one <failure .../> element each; empty when there are none. */
export async function failedActions(node: NodeId): Promise<string[]> {
  const xml = await crmMonXml(node);
  return [...xml.matchAll(/<failure\s[^>]*\/>/g)].map((m) => m[0]);
}

/** The last lines of node N's pacemaker log. */
export async function pacemakerLog(node: NodeId, lines = 200): Promise<string> {
  const r = await labSh(['logs', String(node), String(lines)], { timeoutMs: 30_000 });
  return r.exitCode === 0 ? r.stdout : `(no pacemaker log for ${nodeName(node)}: ${r.stderr})`;
}

/**
 * Polls fn until it returns a truthy value, and returns that value. A throw from fn counts as "not yet".
 * On timeout, throws an error naming `what` and showing the last value or error.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const interval = opts.intervalMs ?? 250;
  const deadline = performance.now() + opts.timeoutMs;
  let last = 'never evaluated';
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = `last value: ${JSON.stringify(v)}`;
    } catch (e) {
      last = `last error: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (performance.now() + interval > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what} (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
