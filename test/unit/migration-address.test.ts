/**
 * Where migration traffic goes: <peer>.mn names built as VirtualDomain builds them, taken only when routed over a
 * dedicated link and answered by the peer's helper, else the back-channel; every decision says why.
 */
import t from 'tap';
import { candidates, decide, rejection, withSuffix, type Probe } from '../../src/net/migration-address.js';

t.test('the suffix goes before the first dot', async (t) => {
  t.equal(withSuffix('node2', '.mn'), 'node2.mn');
  t.equal(withSuffix('node2.example.com', '.mn'), 'node2.mn.example.com');
  t.equal(withSuffix('node2', '-mig'), 'node2-mig');
});

t.test('candidates: suffixes in order, then the back-channel; an explicit address alone, with %n', async (t) => {
  t.same(candidates('node2', ['.mn', '.mn1'], undefined).map((c) => `${c.kind}:${c.name}`),
    ['migration:node2.mn', 'migration:node2.mn1', 'back-channel:node2']);
  t.same(candidates('node2', ['.mn'], '%n-mig.example.com'), [{ name: 'node2-mig.example.com', kind: 'explicit' }]);
});

const mn = (over: Partial<Probe>): Probe => ({ candidate: { name: 'node2.mn', kind: 'migration' }, address: '10.79.0.2', device: 'mn0', defaultDevice: 'eth0', ...over });
const back: Probe = { candidate: { name: 'node2', kind: 'back-channel' }, address: '10.78.0.2', device: 'br0', defaultDevice: 'eth0' };

t.test('a dedicated, answering migration link wins', async (t) => {
  const d = decide([mn({}), back], false);
  t.same(d.ok && [d.name, d.address, d.kind], ['node2.mn', '10.79.0.2', 'migration']);
});

t.test('each reason to refuse the migration network, and the fallback that follows', async (t) => {
  const cases: [Partial<Probe>, RegExp][] = [
    [{ address: undefined, resolveProblem: 'ENOTFOUND' }, /node2\.mn does not resolve \(ENOTFOUND\)/],
    [{ device: 'eth0' }, /routed through the default route's interface eth0, not a dedicated link/],
    [{ device: 'lo' }, /is a local address/],
    [{ device: undefined }, /not routed through any local interface/],
    [{ helperProblem: 'ECONNREFUSED' }, /helper does not answer \(ECONNREFUSED\)/],
  ];
  for (const [over, why] of cases) {
    t.match(rejection(mn(over)), why);
    const d = decide([mn(over), back], false);
    t.ok(d.ok && d.kind === 'back-channel', `falls back to the back-channel (${why.source})`);
    t.match(d.why.join(' '), why, 'and the log says why');
    const strict = decide([mn(over), back], true);
    t.equal(strict.ok, false, 'require_migration_network turns it into a failure');
    t.match(strict.ok ? '' : strict.reason, /require_migration_network=true/);
  }
});

t.test('a wildcard DNS answer through the default route cannot win', async (t) => {
  const wildcard = mn({ address: '203.0.113.7', device: 'eth0' });
  const d = decide([wildcard, back], false);
  t.ok(d.ok && d.kind === 'back-channel');
});

t.test('nothing reachable at all', async (t) => {
  const d = decide([mn({ helperProblem: 'timeout' }), { ...back, helperProblem: 'timeout' }], false);
  t.equal(d.ok, false);
  t.match(d.ok ? '' : d.reason, /not reachable for migration/);
});
