/**
 * `ferry health [COLOUR]`: set one health source's attribute on a node, or show every node's. Attributes are
 * permanent (crm_attribute --lifetime forever): a hardware fault outlives the reboot or fencing it may cause, and
 * the hooks' tools (mcelog, IPMI events) do not report it again after boot. They are cleared by setting green.
 */
import { run } from '../util/run.js';
import { localNode } from './pacemaker.js';
import { parseHealthView } from './health-cib.js';
import {
  colourScores, decideHealthChange, describeEffect, effectiveAttributes, healthAttribute, healthyEnough, isFerryAttribute,
  nodeScore, reasonAttribute, type Colour, type HealthView,
} from './health-decision.js';

export interface HealthOptions {
  colour: Colour | undefined;
  source: string | undefined;
  /** With green: every Ferry health attribute of the node. */
  all: boolean;
  node: string | undefined;
  reason: string | undefined;
  force: boolean;
}

async function readView(): Promise<HealthView> {
  const cib = (await run('cibadmin', ['--query'], { timeoutMs: 15_000 })).stdout;
  const mon = (await run('crm_mon', ['-1', '--output-as=xml'], { timeoutMs: 15_000 })).stdout;
  return parseHealthView(cib, mon);
}

async function setPermanent(node: string, name: string, value: string | undefined): Promise<void> {
  const what = value === undefined ? ['--delete'] : ['--update', value];
  // deleting an attribute that is not there is not a failure worth stopping for
  await run('crm_attribute', ['--node', node, '--name', name, ...what, '--lifetime', 'forever'], { timeoutMs: 15_000, allowFailure: value === undefined });
}

/** Every node, its verdict, and each Ferry attribute with its reason. */
export function formatHealth(view: HealthView): string {
  const scores = colourScores(view.strategy, view.options);
  const lines = [`node-health-strategy=${view.strategy}`];
  for (const n of view.nodes) {
    const attrs = effectiveAttributes(n);
    const score = scores ? nodeScore(attrs, scores) : undefined;
    if (!n.available) lines.push(`${n.name}: ${n.unavailable ?? 'unavailable'}`);
    else lines.push(`${n.name}: ${!scores || healthyEnough(n, attrs, scores) ? 'healthy enough' : 'drained'}; ${describeEffect(view.strategy, score)}`);
    for (const [name, value] of Object.entries(attrs).filter(([k]) => k.startsWith('#health'))) {
      const reason = attrs[reasonAttribute(name)];
      const lifetime = name in n.transient ? 'until reboot' : 'permanent';
      lines.push(`  ${name}=${value} (${lifetime})${reason ? `  ${reason}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function health(o: HealthOptions): Promise<{ text: string; warnings: string[] }> {
  const view = await readView();
  if (o.colour === undefined) return { text: formatHealth(view), warnings: [] };
  if (o.all && (o.colour !== 'green' || o.source !== undefined)) throw new Error('--all only clears: ferry health green --all');
  const node = o.node ?? await localNode();
  const current = view.nodes.find((n) => n.name === node);
  const names = o.all ? Object.keys(current ? effectiveAttributes(current) : {}).filter(isFerryAttribute) : [healthAttribute(o.source)];
  const changes = Object.fromEntries(names.map((name) => [name, o.colour as Colour]));
  const decision = decideHealthChange(view, node, changes, o.force);
  if (!decision.allowed) {
    // the report is kept even when the colour is not: `ferry health` shows it, and the admin decides
    if (current && names[0] && o.reason) await setPermanent(node, reasonAttribute(names[0]), `refused ${o.colour}: ${o.reason}`);
    throw new Error(`refusing ${names.join(', ')}=${o.colour} on ${node}: ${decision.refusal ?? ''}`);
  }
  for (const name of names) {
    await setPermanent(node, name, o.colour);
    await setPermanent(node, reasonAttribute(name), o.reason);
    // a transient value (an older ferry, `ferry evacuate --via health`) would win over the permanent one
    for (const stale of [name, reasonAttribute(name)]) {
      if (current && stale in current.transient) await run('attrd_updater', ['--name', stale, '--delete', '--node', node], { timeoutMs: 15_000 });
    }
  }
  const set = names.length ? names.map((n) => `${n}=${o.colour}`).join(', ') : 'no Ferry health attribute to clear';
  return { text: `${node}: ${set}${o.reason ? ` (${o.reason})` : ''}\n  ${decision.effect}\n`, warnings: decision.warnings };
}
