/**
 * The main job, shared by the demo and the end-to-end test: a container resource running the counter server,
 * a client connected to it over TCP from outside the cluster, moved live by Pacemaker node1 -> node2 -> node1.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clientExec, LAB_DIR, nodeExec, resourceNodes, SHARED_DIR, waitFor, WORKLOAD_DIR } from './lab.js';
import { clear, createResource, deleteResource, move, settled, type ContainerResource } from './cluster.js';

export interface Counter { value: number; instance: string }

export function readCounter(file: string): Counter | undefined {
  try {
    const [value, instance] = readFileSync(file, 'utf8').trim().split(' ');
    return value && instance ? { value: Number(value), instance } : undefined;
  } catch {
    return undefined;
  }
}

export interface ClientSummary {
  replies: number;
  max_gap_ms: number;
  counter_first: number;
  counter_last: number;
  counter_monotonic: boolean;
  errors: string[];
}

export function containerResource(id: string, ip: string, criu: string, extra: Record<string, string> = {}): ContainerResource {
  return {
    id,
    params: {
      name: id,
      command: `exec /usr/bin/python3 ${join(WORKLOAD_DIR, 'server.py')} ${counterFile(id)}`,
      ip: `${ip}/24`, bridge: 'br0', state_dir: SHARED_DIR, criu_binary: criu, stop_timeout: '3', authkey: join(LAB_DIR, 'authkey'),
      ...extra,
    },
  };
}

export const counterFile = (id: string) => join(SHARED_DIR, `${id}.counter`);

export interface RunningClient { done: Promise<ClientSummary>; summaryFile: string }

/** Connects from the client namespace and exchanges a line every 50 ms for `seconds`. */
export function startClient(ip: string, seconds: number, tag: string): RunningClient {
  const log = join(LAB_DIR, `client-${tag}.jsonl`);
  const summaryFile = join(LAB_DIR, `client-${tag}.json`);
  rmSync(summaryFile, { force: true });
  const done = clientExec('/usr/bin/python3', [join(WORKLOAD_DIR, 'client.py'), ip, String(seconds), log, summaryFile],
    { timeoutMs: (seconds + 60) * 1000 }).then(() => JSON.parse(readFileSync(summaryFile, 'utf8')) as ClientSummary);
  return { done, summaryFile };
}

export async function waitRunningOn(id: string, node: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(async () => {
    const where = await resourceNodes(1, id);
    return where.length === 1 && where[0] === node && (await settled());
  }, { what: `${id} running on ${node} only`, timeoutMs });
}

export interface MoveResult {
  from: string;
  to: string;
  wallMs: number;
  summary: Record<string, unknown>;
  counterBefore: Counter | undefined;
  counterAfter: Counter | undefined;
}

/** crm_resource --move, wait until Pacemaker is done, clear the constraint, and read the migration's figures. */
export async function moveAndMeasure(id: string, from: string, to: string): Promise<MoveResult> {
  const statsFile = join(SHARED_DIR, id, 'last-migration.json');
  rmSync(statsFile, { force: true });
  const counterBefore = readCounter(counterFile(id));
  const started = performance.now();
  await move(id, to);
  await waitRunningOn(id, to);
  const wallMs = Math.round(performance.now() - started);
  await clear(id);
  await new Promise((r) => setTimeout(r, 400));
  const counterAfter = readCounter(counterFile(id));
  let summary: Record<string, unknown> = {};
  try {
    summary = JSON.parse(readFileSync(statsFile, 'utf8')) as Record<string, unknown>;
  } catch { /* no live migration happened: the caller's assertions say so */ }
  return { from, to, wallMs, summary, counterBefore, counterAfter };
}

export async function createAndWait(resource: ContainerResource, node: string): Promise<void> {
  await createResource(resource);
  await waitFor(async () => (await resourceNodes(1, resource.id)).length === 1, { what: `${resource.id} started`, timeoutMs: 90_000 });
  const where = (await resourceNodes(1, resource.id))[0];
  if (where !== node) {
    await move(resource.id, node);
    await waitRunningOn(resource.id, node);
    await clear(resource.id);
  }
  await waitFor(() => (readCounter(counterFile(resource.id))?.value ?? 0) > 2, { what: `${resource.id}'s counter`, timeoutMs: 20_000 });
}

/** Waits until Pacemaker is idle with the resource active on exactly one node; returns that node. */
export async function settleOnOne(id: string): Promise<string[]> {
  return waitFor(async () => {
    const where = await resourceNodes(1, id);
    return where.length === 1 && (await settled()) ? where : undefined;
  }, { what: `${id} active on exactly one node, cluster idle`, timeoutMs: 120_000, intervalMs: 500 });
}

/** Removes a test's resource with its constraints and failure history. */
export async function removeResource(id: string): Promise<void> {
  await nodeExec(1, 'crm_resource', ['--clear', '--resource', id]);
  await nodeExec(1, 'crm_resource', ['--cleanup', '--resource', id]);
  await deleteResource(id);
}

export { criuForTests } from './criu-for-tests.js';
