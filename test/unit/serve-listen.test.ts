/**
 * Where `ferry serve` listens when not told (src/helper/listen.ts): this node's addresses under NODE.mn and NODE,
 * only those that are really this node's; a refusal naming what to set where a name points elsewhere; never the
 * wildcard.
 */
import t from 'tap';
import { chooseListen, corosyncNodes, explicitListen, type ListenFacts, type NameLookup } from '../../src/helper/listen.js';

const LOCAL = new Set(['127.0.0.1', '::1', '10.78.0.1', '10.79.0.1', 'fe80::1']);
const mn = (addresses: string[], name = 'node1.mn'): NameLookup => ({ name, kind: 'migration', addresses });
const bc = (addresses: string[]): NameLookup => ({ name: 'node1', kind: 'back-channel', addresses });
const facts = (lookups: NameLookup[], corosync: string[] = []): ListenFacts => ({ node: 'node1', lookups, corosync, local: LOCAL });

t.test('both names resolve to this node: exactly those addresses, migration network first', async (t) => {
  t.same(chooseListen(facts([mn(['10.79.0.1']), bc(['10.78.0.1'])], ['10.78.0.1'])), { ok: true, addresses: ['10.79.0.1', '10.78.0.1'], notes: [] });
  t.same(chooseListen(facts([mn(['10.79.0.1']), bc(['10.78.0.1'])])), { ok: true, addresses: ['10.79.0.1', '10.78.0.1'], notes: [] }, 'without corosync: the resolver');
  t.same(chooseListen(facts([mn(['10.79.0.1', '127.0.0.1']), bc(['10.78.0.1'])])).ok && true, true);
  t.same((chooseListen(facts([mn(['10.79.0.1', '127.0.0.1']), bc(['10.78.0.1'])])) as { addresses: string[] }).addresses, ['10.79.0.1', '10.78.0.1'], 'loopback never taken');
});

t.test('no migration-network name: the back-channel alone, and it says so', async (t) => {
  const c = chooseListen(facts([{ ...mn([]), problem: 'ENOTFOUND' }, bc(['10.78.0.1'])]));
  t.ok(c.ok);
  if (!c.ok) return;
  t.same(c.addresses, ['10.78.0.1']);
  t.match(c.notes.join('; '), /node1\.mn does not resolve \(ENOTFOUND\).*listening on the back-channel only/);
});

t.test('Debian\'s 127.0.1.1 line: corosync\'s address is the back-channel; without corosync, refused', async (t) => {
  const withCorosync = chooseListen(facts([mn(['10.79.0.1']), bc(['127.0.1.1'])], ['10.78.0.1']));
  t.same(withCorosync.ok && withCorosync.addresses, ['10.79.0.1', '10.78.0.1']);
  const without = chooseListen(facts([mn(['10.79.0.1']), bc(['127.0.1.1'])]));
  t.notOk(without.ok);
  t.match(!without.ok && without.reason, /node1 resolves to the loopback address 127\.0\.1\.1 .*127\.0\.1\.1 node1.*set FERRY_LISTEN in \/etc\/default\/ferry/);
});

t.test('a name that points elsewhere: refused, naming it, the address and what to set', async (t) => {
  const mnElsewhere = chooseListen(facts([mn(['10.79.0.9']), bc(['10.78.0.1'])], ['10.78.0.1']));
  t.notOk(mnElsewhere.ok);
  t.match(!mnElsewhere.ok && mnElsewhere.reason, /^node1\.mn resolves to 10\.79\.0\.9, which is not an address of this node \(10\.78\.0\.1, 10\.79\.0\.1, fe80::1\).*set FERRY_LISTEN/);
  const bcElsewhere = chooseListen(facts([mn(['10.79.0.1']), bc(['10.78.0.9'])]));
  t.match(!bcElsewhere.ok && bcElsewhere.reason, /^node1 resolves to 10\.78\.0\.9, which is not an address of this node/);
  const mnLoop = chooseListen(facts([mn(['127.0.0.1']), bc(['10.78.0.1'])]));
  t.match(!mnLoop.ok && mnLoop.reason, /node1\.mn resolves to the loopback address 127\.0\.0\.1, which no peer can reach/);
  const coroElsewhere = chooseListen(facts([mn(['10.79.0.1']), bc(['10.78.0.1'])], ['10.78.0.2']));
  t.match(!coroElsewhere.ok && coroElsewhere.reason, /corosync's nodelist gives node1 the address\(es\) 10\.78\.0\.2, none of them on this node/);
  const nothing = chooseListen(facts([{ ...mn([]), problem: 'ENOTFOUND' }, { ...bc([]), problem: 'ENOTFOUND' }]));
  t.match(!nothing.ok && nothing.reason, /cannot tell node1's back-channel address: node1 does not resolve to an address of this node and corosync names none; set FERRY_LISTEN/);
  const linkLocal = chooseListen(facts([mn([]), bc(['fe80::1'])]));
  t.match(!linkLocal.ok && linkLocal.reason, /node1 resolves to the link-local address fe80::1, which a peer cannot reach without naming an interface/,
    'a link-local address is not one a peer reaches without a zone');
});

t.test('several suffixes: each name that resolves here is taken', async (t) => {
  const local = new Set([...LOCAL, '10.80.0.1']);
  const c = chooseListen({ node: 'node1', lookups: [mn(['10.79.0.1']), mn(['10.80.0.1'], 'node1.mn1'), bc(['10.78.0.1'])], corosync: [], local });
  t.same(c.ok && c.addresses, ['10.79.0.1', '10.80.0.1', '10.78.0.1']);
});

t.test('corosync-cmapctl\'s nodelist: names and ring addresses per node', async (t) => {
  const cmap = [
    'nodelist.local_node_pos (u32) = 0',
    'nodelist.node.0.name (str) = node1', 'nodelist.node.0.nodeid (u32) = 1', 'nodelist.node.0.ring0_addr (str) = 10.78.0.1',
    'nodelist.node.0.ring1_addr (str) = 10.79.0.1',
    'nodelist.node.1.name (str) = node2', 'nodelist.node.1.nodeid (u32) = 2', 'nodelist.node.1.ring0_addr (str) = node2.example.com',
    'nodelist.node.2.nodeid (u32) = 3', 'nodelist.node.2.ring0_addr (str) = 10.78.0.3',
  ].join('\n');
  t.same([...corosyncNodes(cmap)], [['node1', ['10.78.0.1', '10.79.0.1']], ['node2', ['node2.example.com']]], 'an entry without a name is left out');
  t.same([...corosyncNodes('')], []);
});

t.test('addresses given by hand: IPs only, never the wildcard', async (t) => {
  t.same(explicitListen('10.79.0.1, 10.78.0.1'), ['10.79.0.1', '10.78.0.1']);
  t.throws(() => explicitListen('0.0.0.0'), { kind: 'bad-request', message: /0\.0\.0\.0 would listen on every network of this node/ });
  t.throws(() => explicitListen('10.78.0.1,::'), { kind: 'bad-request', message: /:: would listen on every network/ });
  t.throws(() => explicitListen('node1'), { kind: 'bad-request', message: /node1 is not an IP address/ });
  t.throws(() => explicitListen(' , '), { kind: 'bad-request', message: /is empty: unset it/ });
});
