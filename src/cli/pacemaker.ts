/** What the CLI asks of Pacemaker, through its own tools. Ferry never decides placement itself. */
import { parseStringPromise } from 'xml2js';
import { run } from '../util/run.js';
import { badRequest } from '../util/errors.js';

export interface ContainerResource {
  id: string;
  name: string;
  stateDir: string | undefined;
  /** Every instance attribute, as the agent would see them in OCF_RESKEY_*. */
  params: Record<string, string>;
  /** Its own meta attributes (Pacemaker passes none of them to the agent but the timeout). */
  meta: Record<string, string>;
}

interface XmlNode { $?: Record<string, string>; [child: string]: unknown }

function children(node: XmlNode, name: string): XmlNode[] {
  const c = node[name];
  return Array.isArray(c) ? (c as XmlNode[]) : [];
}

/** Every primitive, also inside groups and clones. */
function primitives(node: XmlNode): XmlNode[] {
  return [...children(node, 'primitive'), ...['group', 'clone', 'master', 'bundle'].flatMap((k) => children(node, k).flatMap(primitives))];
}

/** name -> value of every nvpair in the sets (a later set's value wins, as Pacemaker merges plain sets). */
function nvpairs(sets: XmlNode[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const set of sets) {
    for (const nv of children(set, 'nvpair')) {
      if (nv.$?.name !== undefined && nv.$?.value !== undefined) merged[nv.$.name] = nv.$.value;
    }
  }
  return merged;
}

/** The cluster's resource defaults (rsc_defaults meta attributes), from the CIB section's XML. */
export async function parseResourceDefaults(rscDefaults: string): Promise<Record<string, string>> {
  if (!rscDefaults.trim()) return {};
  const parsed = (await parseStringPromise(rscDefaults)) as { rsc_defaults?: XmlNode };
  return nvpairs(children(parsed.rsc_defaults ?? {}, 'meta_attributes'));
}

export async function resourceDefaults(): Promise<Record<string, string>> {
  const r = await run('cibadmin', ['--query', '--scope', 'rsc_defaults'], { timeoutMs: 15_000, allowFailure: true });
  return r.exitCode === 0 ? parseResourceDefaults(r.stdout) : {};
}

/** ocf:ferry:container primitives in the CIB, with the parameters the CLI needs to follow their migrations. */
export async function parseContainerResources(cibResources: string): Promise<ContainerResource[]> {
  const parsed = (await parseStringPromise(cibResources)) as { resources?: XmlNode };
  const found: ContainerResource[] = [];
  for (const p of primitives(parsed.resources ?? {})) {
    if (p.$?.provider !== 'ferry' || p.$?.type !== 'container') continue;
    // Pacemaker merges every instance_attributes set (crm_resource --set-parameter may add a second one)
    const params = nvpairs(children(p, 'instance_attributes'));
    const id = p.$?.id ?? '';
    found.push({ id, name: params.name ?? id, stateDir: params.state_dir, params, meta: nvpairs(children(p, 'meta_attributes')) });
  }
  return found;
}

const describe = (r: ContainerResource) => (r.name === r.id ? r.id : `${r.id} (container ${r.name})`);

/**
 * Pure: the resource an admin means by `idOrName`, the Pacemaker resource id or the container's name (its `name`
 * parameter), whichever it is. A string that is one resource's id and another's container name is refused, not guessed.
 */
export function findContainerResource(resources: readonly ContainerResource[], idOrName: string): ContainerResource {
  const byId = resources.find((r) => r.id === idOrName);
  const byName = resources.filter((r) => r.name === idOrName && r !== byId);
  if (byId && byName.length) {
    throw badRequest(`${idOrName} is ambiguous: the id of resource ${describe(byId)} and the container name of ${byName.map(describe).join(', ')}; `
      + 'rename one of them');
  }
  if (byId) return byId;
  const [only, ...more] = byName;
  if (only && more.length) throw badRequest(`container name ${idOrName} is used by several resources: ${byName.map(describe).join(', ')}; give the resource id`);
  if (only) return only;
  throw badRequest(`${idOrName} is neither the id nor the container name of an ocf:ferry:container resource in this cluster`
    + (resources.length ? ` (there are: ${resources.map(describe).join(', ')})` : ' (there is none)'));
}

/** The resource named by its id or its container's name, from the CIB. */
export async function resolveContainerResource(idOrName: string): Promise<ContainerResource> {
  return findContainerResource(await containerResources(), idOrName);
}

export async function containerResources(): Promise<ContainerResource[]> {
  const r = await run('cibadmin', ['--query', '--scope', 'resources'], { timeoutMs: 15_000 });
  return parseContainerResources(r.stdout);
}

export async function locate(id: string): Promise<string[]> {
  const r = await run('crm_resource', ['--locate', '--resource', id, '--quiet'], { timeoutMs: 15_000, allowFailure: true });
  if (r.exitCode !== 0) throw new Error(`crm_resource --locate ${id}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

export async function moveResource(id: string, node: string): Promise<void> {
  await run('crm_resource', ['--move', '--resource', id, '--node', node], { timeoutMs: 30_000 });
}

export async function clearResource(id: string): Promise<void> {
  await run('crm_resource', ['--clear', '--resource', id], { timeoutMs: 30_000 });
}

/** True when no transition is in progress (the DC reports S_IDLE). */
export async function clusterIdle(): Promise<boolean> {
  const dc = /Designated Controller is: (\S+)/.exec((await run('crmadmin', ['-D'], { allowFailure: true, timeoutMs: 10_000 })).stdout)?.[1];
  if (!dc) return false;
  const r = await run('crmadmin', ['-q', '-S', dc], { allowFailure: true, timeoutMs: 10_000 });
  return `${r.stdout}${r.stderr}`.includes('S_IDLE');
}

export async function failedActions(): Promise<string[]> {
  const xml = (await run('crm_mon', ['-1', '--output-as=xml'], { timeoutMs: 15_000 })).stdout;
  return [...xml.matchAll(/<failure\s[^>]*\/>/g)].map((m) => m[0]);
}

export async function setStandby(node: string, on: boolean): Promise<void> {
  await run('crm_attribute', ['--node', node, '--name', 'standby', '--update', on ? 'on' : 'off'], { timeoutMs: 15_000 });
}

export async function localNode(): Promise<string> {
  return (await run('crm_node', ['-n'], { timeoutMs: 10_000 })).stdout.trim();
}

export const HEALTH_ATTRIBUTE = '#health-ferry';

export async function setHealth(node: string, colour: 'red' | 'yellow' | 'green', reason: string | undefined): Promise<void> {
  await run('attrd_updater', ['--name', HEALTH_ATTRIBUTE, '--update', colour, '--node', node], { timeoutMs: 15_000 });
  await run('attrd_updater', ['--name', 'ferry-health-reason', '--update', reason ?? '', '--node', node], { timeoutMs: 15_000 });
}
