/** Pacemaker in the lab, for container resources: the definition, moves, standby, the order of operations. */
import { crm, nodeExec, pacemakerLog, resourceNodes, waitFor, type NodeId } from './lab.js';

export interface ContainerResource {
  id: string;
  params: Record<string, string>;
  monitorIntervalS?: number;
  migrateTimeoutS?: number;
  /** The stop operation's timeout (default 60 s): what a checkpoint on stop must fit in. */
  stopTimeoutS?: number;
  /** false: Pacemaker moves it by stop and start (the cold move benchmarks compare against). */
  allowMigrate?: boolean;
  /** More meta attributes (multiple-active, ...). */
  meta?: Record<string, string>;
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function primitiveXml(r: ContainerResource): string {
  const nv = Object.entries(r.params)
    .map(([k, v]) => `<nvpair id="${r.id}-p-${k}" name="${k}" value="${attr(v)}"/>`).join('');
  const mig = r.migrateTimeoutS ?? 120;
  return `<primitive id="${r.id}" class="ocf" provider="ferry" type="container">`
    + `<instance_attributes id="${r.id}-params">${nv}</instance_attributes>`
    + `<meta_attributes id="${r.id}-meta"><nvpair id="${r.id}-m-am" name="allow-migrate" value="${r.allowMigrate === false ? 'false' : 'true'}"/>`
    + Object.entries(r.meta ?? {}).map(([k, v]) => `<nvpair id="${r.id}-m-${k}" name="${k}" value="${attr(v)}"/>`).join('')
    + '</meta_attributes>'
    + '<operations>'
    + `<op id="${r.id}-monitor" name="monitor" interval="${r.monitorIntervalS ?? 5}s" timeout="20s"/>`
    + `<op id="${r.id}-start" name="start" interval="0s" timeout="120s"/>`
    + `<op id="${r.id}-stop" name="stop" interval="0s" timeout="${r.stopTimeoutS ?? 60}s"/>`
    + `<op id="${r.id}-migrate_to" name="migrate_to" interval="0s" timeout="${mig}s"/>`
    + `<op id="${r.id}-migrate_from" name="migrate_from" interval="0s" timeout="${mig}s"/>`
    + '</operations></primitive>';
}

export async function createResource(r: ContainerResource): Promise<void> {
  await crm(1, ['cibadmin', '--create', '-o', 'resources', '--xml-text', primitiveXml(r)]);
}

export async function deleteResource(id: string): Promise<void> {
  await crm(1, ['crm_resource', '--resource', id, '--meta', '--set-parameter', 'target-role', '--parameter-value', 'Stopped']);
  await waitFor(async () => (await resourceNodes(1, id)).length === 0, { what: `${id} stopped`, timeoutMs: 60_000 });
  await crm(1, ['cibadmin', '--delete', '--xml-text', `<primitive id="${id}"/>`]);
  await nodeExec(1, 'crm_resource', ['--cleanup', '--resource', id]);
}

export async function move(id: string, node: string): Promise<void> {
  await crm(1, ['crm_resource', '--move', '--resource', id, '--node', node]);
}

export async function clear(id: string): Promise<void> {
  await crm(1, ['crm_resource', '--clear', '--resource', id]);
}

export async function standby(node: string, on: boolean): Promise<void> {
  await crm(1, ['crm_attribute', '--node', node, '--name', 'standby', '--update', on ? 'on' : 'off']);
}

/** True when the DC has no transition in progress. */
export async function settled(): Promise<boolean> {
  for (const n of [1, 2] as NodeId[]) {
    const r = await nodeExec(n, 'crmadmin', ['-q', '-S', `node${n}`]);
    if (`${r.stdout}${r.stderr}`.includes('S_IDLE')) return true;
  }
  return false;
}

export interface ExecutedOp { node: string; op: string; result: string; at: string }

/** The resource's operations as each node's controller logged their results ("Result of migrate_to operation for ..."). */
export async function executedOperations(id: string): Promise<ExecutedOp[]> {
  const ops: ExecutedOp[] = [];
  for (const n of [1, 2] as NodeId[]) {
    const log = await pacemakerLog(n, 5000);
    const pattern = new RegExp(`^(\\S+ +\\d+ [\\d:.]+|\\S+T\\S+) .*Result of (\\S+) operation for ${id} on (\\S+): (\\S+)`, 'gm');
    for (const m of log.matchAll(pattern)) ops.push({ at: m[1] ?? '', op: m[2] ?? '', node: m[3] ?? '', result: m[4] ?? '' });
  }
  // both nodes log with the same clock: order by the time the stamp stands for, not by its text ("Nov 22 ..."
  // sorts before "Nov 3 ..." and across a month's end); a stable sort keeps each log's own order for equal stamps
  return ops.sort((a, b) => logTime(a.at) - logTime(b.at));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A log stamp as milliseconds: ISO 8601 as it is, syslog's "Nov 22 10:25:01.123" in this year (the year before
 * when that would lie in the future: a run over New Year).
 */
export function logTime(stamp: string): number {
  const iso = Date.parse(stamp);
  if (!Number.isNaN(iso) && stamp.includes('T')) return iso;
  const m = /^(\w{3}) +(\d+) (\d+):(\d+):(\d+)(?:\.(\d+))?/.exec(stamp);
  if (!m) return Number.NaN;
  const now = new Date();
  const at = (year: number) => new Date(year, MONTHS.indexOf(m[1] ?? ''), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]),
    Number((m[6] ?? '0').padEnd(3, '0').slice(0, 3))).getTime();
  const thisYear = at(now.getFullYear());
  return thisYear > now.getTime() + 86_400_000 ? at(now.getFullYear() - 1) : thisYear;
}

export interface HistoryEntry { node: string; operation: string; rc: number; lastRcChange: number; callId: number }

/** The resource's operation history as the CIB's status section keeps it, one entry per recorded operation and node. */
export async function operationHistory(id: string): Promise<HistoryEntry[]> {
  const xml = await crm(1, ['cibadmin', '--query', '--scope', 'status']);
  const entries: HistoryEntry[] = [];
  for (const state of xml.matchAll(/<node_state [^>]*\buname="([^"]+)"[\s\S]*?<\/node_state>/g)) {
    const rsc = new RegExp(`<lrm_resource id="${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[\\s\\S]*?</lrm_resource>`).exec(state[0]);
    for (const op of rsc?.[0].matchAll(/<lrm_rsc_op [^>]*>/g) ?? []) {
      const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(op[0])?.[1] ?? '';
      entries.push({ node: state[1] ?? '', operation: attr('operation'), rc: Number(attr('rc-code')), lastRcChange: Number(attr('last-rc-change')), callId: Number(attr('call-id')) });
    }
  }
  return entries;
}
