/**
 * Where `ferry serve` listens when it is not told: this node's own addresses under the names its peers use for it.
 * A peer's agent reaches the helper at `NODE.mn` (each migration-network suffix, as the resources'
 * migration_network_suffix) and at `NODE` (the back-channel), both through the system resolver; corosync's nodelist
 * names the node's cluster addresses too. The helper takes an address only if it is really this node's (on one of its
 * interfaces, not loopback), and refuses to start where a name points elsewhere: a peer would then talk to another
 * machine, or to nobody. Never the wildcard address.
 */
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { ipFamily } from '../util/ip.js';
import { withSuffix } from '../util/node-suffix.js';
import { run } from '../util/run.js';
import { badRequest, notInstalled } from '../util/errors.js';

export interface NameLookup {
  name: string;
  kind: 'migration' | 'back-channel';
  /** What the resolver answered, in its order (the first is what a peer's lookup takes). */
  addresses: string[];
  problem?: string | undefined;
}

export interface ListenFacts {
  node: string;
  lookups: NameLookup[];
  /** This node's ring addresses in corosync's nodelist (already resolved), if corosync could be asked. */
  corosync: string[];
  /** Addresses on this node's interfaces. */
  local: ReadonlySet<string>;
}

export type ListenChoice = { ok: true; addresses: string[]; notes: string[] } | { ok: false; reason: string };

const SET_IT = 'set FERRY_LISTEN in /etc/default/ferry (or ferry serve --listen) to this node\'s migration-network and back-channel addresses';

const isLoopback = (a: string) => ipaddr.parse(a).range() === 'loopback';
/** Addresses a peer can reach this node at: local, not loopback, not link-local (that needs a zone). */
const usable = (a: string, local: ReadonlySet<string>) => local.has(a) && !isLoopback(a) && ipaddr.parse(a).range() !== 'linkLocal';

/** Pure: the addresses to listen on, or why none can be chosen. */
export function chooseListen(f: ListenFacts): ListenChoice {
  const chosen: string[] = [];
  const notes: string[] = [];
  const take = (a: string) => { if (!chosen.includes(a)) chosen.push(a); };
  const elsewhere = (name: string, addresses: string[]) => (f.local.has(addresses[0] ?? '')
    ? `${name} resolves to the link-local address ${addresses[0] ?? ''}, which a peer cannot reach without naming an interface; `
      + `give it a routable address in /etc/hosts or DNS, or ${SET_IT}`
    : `${name} resolves to ${addresses.join(', ')}, which is not an address of this node (${[...f.local].filter((a) => !isLoopback(a)).join(', ') || 'none but loopback'}): `
    + `a peer would send the container there; fix the name in /etc/hosts or DNS, or ${SET_IT}`);

  for (const l of f.lookups.filter((x) => x.kind === 'migration')) {
    if (!l.addresses.length) { notes.push(`${l.name} does not resolve${l.problem ? ` (${l.problem})` : ''}: no migration network under that name`); continue; }
    const first = l.addresses[0] as string;
    if (isLoopback(first)) return { ok: false, reason: `${l.name} resolves to the loopback address ${first}, which no peer can reach; fix it in /etc/hosts or DNS, or ${SET_IT}` };
    if (!usable(first, f.local)) return { ok: false, reason: elsewhere(l.name, l.addresses) };
    l.addresses.filter((a) => usable(a, f.local)).forEach(take);
  }
  const migration = chosen.length;

  const corosyncHere = f.corosync.filter((a) => usable(a, f.local));
  if (f.corosync.length && !corosyncHere.length) {
    return { ok: false, reason: `corosync's nodelist gives ${f.node} the address(es) ${f.corosync.join(', ')}, none of them on this node: is ${f.node} this node's name? ${SET_IT}` };
  }
  corosyncHere.forEach(take);
  for (const l of f.lookups.filter((x) => x.kind === 'back-channel')) {
    const first = l.addresses[0];
    if (first === undefined) { notes.push(`${l.name} does not resolve${l.problem ? ` (${l.problem})` : ''}`); continue; }
    if (isLoopback(first)) {
      // Debian's installer writes "127.0.1.1 HOSTNAME": this node resolves itself to loopback, its peers do not
      notes.push(`${l.name} resolves to loopback (${first}) here: its peers must resolve it to a real address`);
      if (!corosyncHere.length) {
        return { ok: false, reason: `${l.name} resolves to the loopback address ${first} here (a line like "127.0.1.1 ${l.name}" in /etc/hosts, as Debian's installer writes, does that) `
          + `and corosync names no address of it: give ${l.name} its cluster address in /etc/hosts, or ${SET_IT}` };
      }
      continue;
    }
    if (!usable(first, f.local)) return { ok: false, reason: elsewhere(l.name, l.addresses) };
    l.addresses.filter((a) => usable(a, f.local)).forEach(take);
  }
  if (chosen.length === migration) {
    return { ok: false, reason: `cannot tell ${f.node}'s back-channel address: ${f.node} does not resolve to an address of this node and corosync names none; ${SET_IT}` };
  }
  if (!migration) notes.push('listening on the back-channel only: migrations will use it');
  return { ok: true, addresses: chosen, notes };
}

/** Addresses given by hand: each a plain IP, never the wildcard (which would listen on every network of the node). */
export function explicitListen(raw: string): string[] {
  const addresses = raw.split(',').map((a) => a.trim()).filter(Boolean);
  if (!addresses.length) throw badRequest('--listen (FERRY_LISTEN) is empty: unset it to derive the addresses from the node name');
  for (const a of addresses) {
    if (!ipFamily(a)) throw badRequest(`--listen: ${a} is not an IP address (give addresses, comma-separated)`);
    if (ipaddr.parse(a).range() === 'unspecified') {
      throw badRequest(`--listen: ${a} would listen on every network of this node; give its migration-network and back-channel addresses`);
    }
  }
  return addresses;
}

/** Pure: `corosync-cmapctl -b nodelist.node` output to each node's name and ring addresses. */
export function corosyncNodes(cmap: string): Map<string, string[]> {
  const byIndex = new Map<string, { name?: string; rings: string[] }>();
  for (const m of cmap.matchAll(/^nodelist\.node\.(\d+)\.(name|ring\d+_addr) \([a-z0-9]+\) = (.+)$/gm)) {
    const [, index = '', key = '', value = ''] = m;
    const entry = byIndex.get(index) ?? { rings: [] };
    if (key === 'name') entry.name = value.trim(); else entry.rings.push(value.trim());
    byIndex.set(index, entry);
  }
  return new Map([...byIndex.values()].filter((e) => e.name).map((e) => [e.name as string, e.rings]));
}

async function resolveAll(name: string): Promise<{ addresses: string[]; problem?: string }> {
  try {
    return { addresses: (await lookup(name, { all: true })).map((a) => a.address) };
  } catch (err) {
    return { addresses: [], problem: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

export function localAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
}

/** The node's name and ring addresses from corosync, when it runs; the name is the entry with a ring address here. */
async function fromCorosync(local: ReadonlySet<string>, node: string | undefined): Promise<{ node?: string; rings: string[] }> {
  const r = await run('corosync-cmapctl', ['-b', 'nodelist.node'], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return { rings: [] };
  const nodes = corosyncNodes(r.stdout);
  const resolved = async (rings: string[]) => (await Promise.all(rings.map(async (a) => (ipFamily(a) ? [a] : (await resolveAll(a)).addresses.slice(0, 1))))).flat();
  if (node) return { node, rings: await resolved(nodes.get(node) ?? []) };
  for (const [name, rings] of nodes) {
    const addresses = await resolved(rings);
    if (addresses.some((a) => local.has(a))) return { node: name, rings: addresses };
  }
  return { rings: [] };
}

/**
 * The addresses to listen on for `node` (crm_node -n's answer, or undefined to take corosync's entry for this
 * machine, else the host name) with the migration-network `suffixes`. Throws not-installed with what to set.
 */
export async function deriveListen(node: string | undefined, suffixes: readonly string[], fallbackName: () => Promise<string>):
  Promise<{ node: string; addresses: string[]; notes: string[] }> {
  const local = localAddresses();
  const coro = await fromCorosync(local, node);
  const name = node ?? coro.node ?? await fallbackName();
  const lookups: NameLookup[] = [];
  for (const suffix of suffixes) lookups.push({ name: withSuffix(name, suffix), kind: 'migration', ...(await resolveAll(withSuffix(name, suffix))) });
  lookups.push({ name, kind: 'back-channel', ...(await resolveAll(name)) });
  const choice = chooseListen({ node: name, lookups, corosync: coro.rings, local });
  if (!choice.ok) throw notInstalled(`ferry serve cannot choose where to listen: ${choice.reason}`);
  return { node: name, addresses: choice.addresses, notes: choice.notes };
}
