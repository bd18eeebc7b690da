/**
 * Runs the real agent executable the way Pacemaker's executor does: a child process whose environment is only
 * what an action gets (PATH, OCF_ROOT, OCF_RESOURCE_INSTANCE, OCF_RESKEY_*), never the test's own (tap's
 * NODE_OPTIONS would load its TypeScript hooks into the agent), with a private FERRY_RUN_DIR so nothing in
 * these tests touches /run/ferry. Commands are argument arrays, never shell strings.
 */
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    if (existsSync(join(dir, 'ocf', 'ferry', 'container')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find the repository above ${fileURLToPath(import.meta.url)}`);
}

export const REPO = findRepo();
/** The executable as built in the repository (runs dist/agent.cjs). */
export const AGENT = join(REPO, 'ocf', 'ferry', 'container');
/** Where `npm run install-agent` puts it, and where Pacemaker, crm_resource and ocf-tester look for it. */
export const INSTALLED_AGENT = '/usr/lib/ocf/resource.d/ferry/container';
const INSTALLED_PREFIX = '/usr/lib/ferry';
export const REASON_PREFIX = 'ocf-exit-reason:';
export const OCF_ROOT = '/usr/lib/ocf';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** OCF_RESKEY_CRM_meta_* for a recurring monitor (Pacemaker's default 10 s interval) and for a probe. */
export const RECURRING = { OCF_RESKEY_CRM_meta_interval: '10000' } as const;
export const PROBE = { OCF_RESKEY_CRM_meta_interval: '0' } as const;

export interface AgentResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** The `ocf-exit-reason:` lines of stderr, prefix removed. */
  reasons: string[];
  timedOut: boolean;
}

export interface AgentOptions {
  /** FERRY_RUN_DIR for this run. */
  runDir: string;
  /** Resource parameters, without the OCF_RESKEY_ prefix; undefined leaves one unset. */
  params?: Readonly<Record<string, string | undefined>>;
  /** Other variables (OCF_RESKEY_CRM_meta_*, OCF_CHECK_LEVEL...). */
  env?: Readonly<Record<string, string>>;
  executable?: string;
  /** A command the agent runs under, e.g. ['nsenter', '--net=/run/netns/x']. */
  wrap?: readonly string[];
  timeoutMs?: number;
}

export function ocfEnv(o: Pick<AgentOptions, 'runDir' | 'params' | 'env'>): Record<string, string> {
  const env: Record<string, string> = { PATH, OCF_ROOT, FERRY_RUN_DIR: o.runDir, OCF_RESOURCE_INSTANCE: 'fyt' };
  for (const [k, v] of Object.entries(o.params ?? {})) if (v !== undefined) env[`OCF_RESKEY_${k}`] = v;
  return { ...env, ...o.env };
}

/** Runs one action (undefined: no action at all) and never throws on a non-zero exit. */
export async function agent(action: string | undefined, o: AgentOptions): Promise<AgentResult> {
  const [file, ...args] = [...(o.wrap ?? []), o.executable ?? AGENT, ...(action === undefined ? [] : [action])];
  const started = performance.now();
  const r = await execa(file as string, args, {
    env: ocfEnv(o), extendEnv: false, reject: false, stdin: 'ignore', timeout: o.timeoutMs ?? 60_000,
    cwd: '/', stripFinalNewline: false,
  });
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  return {
    code: r.exitCode ?? -1,
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr,
    ms: Math.round(performance.now() - started),
    reasons: stderr.split('\n').filter((l) => l.startsWith(REASON_PREFIX)).map((l) => l.slice(REASON_PREFIX.length)),
    timedOut: r.timedOut,
  };
}

/** What tap prints next to a failed assertion about an agent run. */
export function shown(r: AgentResult): { code: number; ms: number; stderr: string; stdout: string } {
  return { code: r.code, ms: r.ms, stderr: r.stderr.slice(0, 2000), stdout: r.stdout.slice(0, 500) };
}

/** Lines that only an uncaught exception prints: a stack frame or Node's "TypeError: ..." header. */
export function crashLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^\s+at /.test(l) || /^(Uncaught )?[A-Za-z]*Error( \[[A-Z_]+\])?: /.test(l)
    || l.includes('node:internal'));
}

// ---- the machine: these tests fail (never skip) where they cannot run for real ----

function onPath(tool: string): boolean {
  if (tool.includes('/')) return existsSync(tool);
  return PATH.split(':').some((d) => existsSync(join(d, tool)));
}

/** Throws (failing the test file) unless we are root and every tool is installed. */
export function requireRootAndTools(tools: readonly string[]): void {
  if (process.getuid?.() !== 0) throw new Error('the agent contract tests need root (namespaces, veth, kill)');
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length) throw new Error(`missing on this machine: ${missing.join(', ')} (see test/lab/install-host-packages.sh)`);
}

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((e) => newestMtime(join(path, e))));
}

/** Builds the agent when dist/agent.cjs is missing or older than its sources; returns what it did. */
export async function ensureBuilt(): Promise<string> {
  const bundle = join(REPO, 'dist', 'agent.cjs');
  const sources = Math.max(newestMtime(join(REPO, 'src')), newestMtime(join(REPO, 'heartbeat-meta.xml')));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return 'dist/agent.cjs is up to date';
  await execa('npm', ['run', '--silent', 'build'], { cwd: REPO, stdin: 'ignore' });
  return 'built the agent (npm run build)';
}

const sameFile = (a: string, b: string) => existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));

/** Installs the agent (npm run install-agent) when it is missing or differs from this build. */
export async function ensureInstalled(): Promise<string> {
  await ensureBuilt();
  const current = existsSync(INSTALLED_AGENT)
    && sameFile(join(REPO, 'dist', 'agent.cjs'), join(INSTALLED_PREFIX, 'dist', 'agent.cjs'))
    && sameFile(join(REPO, 'heartbeat-meta.xml'), join(INSTALLED_PREFIX, 'heartbeat-meta.xml'));
  if (current) return `${INSTALLED_AGENT} is this build`;
  await execa('npm', ['run', '--silent', 'install-agent'], { cwd: REPO, stdin: 'ignore' });
  return `installed this build as ${INSTALLED_AGENT} (npm run install-agent)`;
}

/** The CRIU the tests use: $FERRY_TEST_CRIU (set by test/run-all.sh) or what test/lab/install-criu.sh provides. */
export async function criuForTests(): Promise<string> {
  if (process.env.FERRY_TEST_CRIU) return process.env.FERRY_TEST_CRIU;
  const r = await execa('sh', [join(REPO, 'test', 'lab', 'install-criu.sh')], { stdin: 'ignore' });
  return r.stdout.trim().split('\n').pop() ?? 'criu';
}

// ---- scratch space, names and leftovers ----

let serial = 0;

/**
 * A test's private corner: a temp dir holding its FERRY_RUN_DIR, and a token unique to this test process that
 * every container name and command carries, so leftovers are found (and only ours are killed) by it.
 */
export class Scratch {
  readonly dir: string;
  readonly runDir: string;
  readonly token: string;

  constructor(label: string) {
    this.dir = mkdtempSync(join(tmpdir(), `fyt-${label}-`));
    this.runDir = join(this.dir, 'run');
    this.token = `fyt-${process.pid}-${label}`;
  }

  /** A fresh container name, unique to this process and test. */
  name(): string {
    serial += 1;
    return `${this.token}-${serial}`;
  }

  /** A long-running container command that keeps the token in its shell's command line (no exec). */
  command(seconds = 1000): string {
    return `sleep ${seconds}; : ${this.token}`;
  }

  /** A fresh FERRY_RUN_DIR under this scratch dir (for work done concurrently). */
  subdir(label: string): string {
    const d = join(this.dir, label);
    mkdirSync(d, { recursive: true });
    return d;
  }

  leftovers(): number[] {
    return processesMentioning(this.token);
  }

  /** Kills whatever of ours is left (a failed test must not leave containers behind) and removes the dir. */
  async cleanup(): Promise<void> {
    for (const pid of processesMentioning(this.token)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const record of containerRecords(this.dir)) {
      const r = readRecord(record);
      if (r?.pid && isSameProcess(r.pid, r.startTime)) {
        try { process.kill(r.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    await new Promise((res) => setTimeout(res, 100));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RecordFields { name: string; pid: number; startTime: number; pidNamespace: string; hostInterface?: string }

export function readRecord(path: string): RecordFields | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RecordFields;
  } catch {
    return undefined;
  }
}

/**
 * The agent's per-container files (records, restore intents) anywhere under a FERRY_RUN_DIR, whatever its layout;
 * not its CRIU capability cache.
 */
export function containerRecords(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) found.push(...containerRecords(path));
    else if (e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('capabilities-')) found.push(path);
  }
  return found;
}

/** The record of a running container: the file under runDir naming it with its init's PID. */
export function recordOf(runDir: string, name: string): RecordFields | undefined {
  for (const path of containerRecords(runDir)) {
    const r = readRecord(path);
    if (r?.name === name && typeof r.pid === 'number' && typeof r.startTime === 'number') return r;
  }
  return undefined;
}

export function processesMentioning(token: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(token)) found.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return found;
}

/** Alive and not a zombie, and (when given) the same start time: not a reused PID. */
export function isSameProcess(pid: number, startTime?: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return false;
    return startTime === undefined || Number(fields[19]) === startTime;
  } catch {
    return false;
  }
}

export async function waitFor(what: string, ms: number, check: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `count` jobs with at most `width` at a time, results in order. */
export async function pooled<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) results[i] = await job(i);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}
