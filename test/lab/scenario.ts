/**
 * The main job, shared by the demo and the end-to-end test: a container resource running the counter server,
 * a client connected to it over TCP from outside the cluster, moved live by Pacemaker node1 -> node2 -> node1.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientExec, LAB_DIR, labDown, labUp, nodeExec, resourceNodes, SHARED_DIR, waitFor, WORKLOAD_DIR, type NodeId } from './lab.js';
import { clear, createResource, deleteResource, executedOperations, move, operationHistory, settled, standby, type ContainerResource } from './cluster.js';

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

export interface RunningClient {
  done: Promise<ClientSummary>;
  summaryFile: string;
  /** One JSON line per reply, written as they come. */
  logFile: string;
  /** Ends the session cleanly (client.py's --stop-file); `done` then resolves with its summary. */
  stop(): void;
  /** Whether the client has ended (on its own, at `seconds`, on an error, or stopped). */
  ended(): boolean;
}

/**
 * Connects from the client namespace and exchanges a line every 50 ms for at most `seconds`, or until stop().
 * Tests stop it once what they watch is over, so a slow machine never ends the session before the migration it
 * is meant to witness: `seconds` is only a bound.
 */
export function startClient(ip: string, seconds: number, tag: string, opts: { replyTimeoutS?: number } = {}): RunningClient {
  const logFile = join(LAB_DIR, `client-${tag}.jsonl`);
  const summaryFile = join(LAB_DIR, `client-${tag}.json`);
  const stopFile = join(LAB_DIR, `client-${tag}.stop`);
  for (const f of [summaryFile, logFile, stopFile]) rmSync(f, { force: true });
  let finished = false;
  const done = clientExec('/usr/bin/python3', [join(WORKLOAD_DIR, 'client.py'), ip, String(seconds), logFile, summaryFile, '--stop-file', stopFile,
    ...(opts.replyTimeoutS ? ['--reply-timeout', String(opts.replyTimeoutS)] : [])],
    { timeoutMs: (seconds + 60) * 1000 }).then(() => JSON.parse(readFileSync(summaryFile, 'utf8')) as ClientSummary)
    .finally(() => { finished = true; });
  return { done, summaryFile, logFile, stop: () => writeFileSync(stopFile, ''), ended: () => finished };
}

/** Replies the client has logged so far. */
export function clientReplies(client: RunningClient): number {
  try {
    return readFileSync(client.logFile, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  } catch {
    return 0;
  }
}

/**
 * Waits until the client has `more` replies beyond `after` (by default: beyond none), instead of a fixed sleep:
 * the session is up and talking. Returns early when the client has ended (its summary then says why).
 */
export async function waitReplies(client: RunningClient, more: number, after = 0, timeoutMs = 60_000): Promise<number> {
  return waitFor(() => {
    const n = clientReplies(client);
    return n >= after + more || client.ended() ? Math.max(n, 1) : undefined;
  }, { what: `${more} more replies to the client (after ${after})`, timeoutMs, intervalMs: 100 });
}

/**
 * Ends a client that watched moves: waits for `more` replies after those it had when the moves were done, so the
 * session is seen carrying traffic afterwards however long they took, then stops it and returns its summary.
 */
export async function endAfterMoves(client: RunningClient, more = 20): Promise<{ summary: ClientSummary; afterMoves: number }> {
  const afterMoves = clientReplies(client);
  await waitReplies(client, more, afterMoves);
  client.stop();
  return { summary: await client.done, afterMoves };
}

/**
 * Drains node1 by standby with a client connected and waits until `id` runs on node2 only: the counter before and
 * after (read through the lab's counter file) and the client's summary, for the caller's assertions.
 */
export async function standbyWithClient(id: string, ip: string, tag: string): Promise<{ before: Counter | undefined; after: Counter | undefined; summary: ClientSummary }> {
  const before = readCounter(counterFile(id));
  const client = startClient(ip, 300, tag);
  await waitReplies(client, 20);
  await standby('node1', true);
  await waitRunningOn(id, 'node2');
  await waitReplies(client, 20, clientReplies(client));
  client.stop();
  return { before, after: readCounter(counterFile(id)), summary: await client.done };
}

/**
 * The counter once the workload has written it again since `before` (a higher value, or another instance if it
 * was restarted), or what the file holds when `timeoutMs` ran out: the caller's assertions decide. Replaces a
 * fixed pause before reading the counter after a move.
 */
export async function counterSince(id: string, before: Counter | undefined, timeoutMs = 20_000): Promise<Counter | undefined> {
  const moved = () => {
    const c = readCounter(counterFile(id));
    return c && (!before || c.instance !== before.instance || c.value > before.value) ? c : undefined;
  };
  return waitFor(moved, { what: `${id}'s counter written again`, timeoutMs, intervalMs: 100 }).catch(() => readCounter(counterFile(id)));
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
  const counterAfter = await counterSince(id, counterBefore);
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

/**
 * Waits until Pacemaker is idle with the resource active on exactly one node, as node `asking` sees it (another
 * than node1 when node1 is down); returns that node.
 */
export async function settleOnOne(id: string, asking: NodeId = 1, timeoutMs = 120_000): Promise<string[]> {
  try {
    return await waitFor(async () => {
      const where = await resourceNodes(asking, id);
      return where.length === 1 && (await settled()) ? where : undefined;
    }, { what: `${id} active on exactly one node, cluster idle`, timeoutMs, intervalMs: 500 });
  } catch (err) {
    // what Pacemaker was doing when it did not settle: the failure must explain itself on a CI machine
    const mon = await nodeExec(asking, 'crm_mon', ['-1', '--include=all']).catch(() => undefined);
    const ops = await executedOperations(id).catch(() => []);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\ncrm_mon: ${mon?.stdout ?? '?'}\noperations: ${ops.map((o) => `${o.op}@${o.node}:${o.result}`).join(', ')}`);
  }
}

export interface RefusalOutcome {
  /** Where Pacemaker shows the resource once idle. */
  shown: string[];
  /**
   * Pacemaker 2.1.5 (and its main branch as read in 2026) compares a failed migrate_to with the target's later
   * operations by last-rc-change, whole seconds, when they ran on different nodes: a recovery that stops and
   * fails on the target within the migrate_to's second leaves the resource shown as active there too, with no
   * action scheduled. True when that, and only that, explains a second node in `shown`.
   */
  sameSecondQuirk: boolean;
}

/**
 * After a migrate_to from `source` to `target` failed: waits until Pacemaker is idle with the resource started
 * again on `source`, and says where Pacemaker shows it and why a second node may be shown.
 */
export async function settleAfterFailedMigrateTo(id: string, source: string, target: string): Promise<RefusalOutcome> {
  const history = await waitFor(async () => {
    const h = await operationHistory(id);
    const failed = h.find((e) => e.node === source && e.operation === 'migrate_to' && e.rc !== 0);
    const restarted = h.some((e) => e.node === source && e.operation === 'start' && e.rc === 0 && failed !== undefined && e.callId > failed.callId);
    return restarted && (await settled()) ? h : undefined;
  }, { what: `${id} restarted on ${source} after its failed migrate_to, cluster idle`, timeoutMs: 120_000, intervalMs: 500 });
  const shown = await resourceNodes(1, id);
  const failedAt = history.find((e) => e.node === source && e.operation === 'migrate_to' && e.rc !== 0)?.lastRcChange ?? Number.NaN;
  const onTarget = history.filter((e) => e.node === target && e.operation !== 'monitor');
  const sameSecondQuirk = shown.includes(target) && onTarget.length > 0 && onTarget.every((e) => e.lastRcChange <= failedAt);
  return { shown, sameSecondQuirk };
}

/** Removes a test's resource with its constraints and failure history. */
export async function removeResource(id: string): Promise<void> {
  await nodeExec(1, 'crm_resource', ['--clear', '--resource', id]);
  await nodeExec(1, 'crm_resource', ['--cleanup', '--resource', id]);
  await deleteResource(id);
}

import { criuForTests } from './criu-for-tests.js';
export { criuForTests };

/**
 * The frame every lab test file shares: root checked (failing loudly, never skipping), the tests' CRIU found and
 * handed to `useCriu`, the lab built before the file's tests and torn down after them.
 */
export function useLab(t: { before(fn: () => Promise<void>): unknown; teardown(fn: () => Promise<void>): unknown },
  useCriu: (criu: string) => void): void {
  t.before(async () => {
    if (process.getuid?.() !== 0) throw new Error('these tests need root');
    useCriu(await criuForTests());
    await labUp();
  });
  t.teardown(async () => { await labDown(); });
}

/** Bytes sent through an interface of a node (ask ip: a node's /sys shows the host's interfaces). */
export async function txBytes(node: NodeId, dev: string): Promise<number> {
  const r = await nodeExec(node, 'ip', ['-j', '-s', 'link', 'show', 'dev', dev]);
  const bytes = (JSON.parse(r.stdout) as { stats64: { tx: { bytes: number } } }[])[0]?.stats64.tx.bytes;
  if (bytes === undefined) throw new Error(`no counters for ${dev} on node ${node}: ${r.stderr}`);
  return bytes;
}
