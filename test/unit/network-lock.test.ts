/**
 * Finding the network lock a killed CRIU left behind in a container's namespace, from `nft list tables`:
 * CRIU names its table "inet CRIU-<run id>" (a UUID since CRIU 3.17; the root PID for images of older
 * versions). Only those tables may be removed; the container's own tables must survive.
 */
import t from 'tap';
import { staleLockTables } from '../../src/criu/network-lock.js';

t.test('CRIU\'s lock table is found among the container\'s own tables', async (t) => {
  t.same(staleLockTables('table inet CRIU-abc123\ntable ip filter'), ['inet CRIU-abc123']);
});

t.test('run ids as CRIU writes them: a UUID, or a PID for older images', async (t) => {
  const listing = 'table inet CRIU-6f1c9f2a-3d4b-4c1e-9a57-0c2d3e4f5a6b\ntable inet CRIU-4242\n';
  t.same(staleLockTables(listing), ['inet CRIU-6f1c9f2a-3d4b-4c1e-9a57-0c2d3e4f5a6b', 'inet CRIU-4242']);
});

t.test('the container\'s own tables are never listed for removal', async (t) => {
  const own = ['table inet filter', 'table ip nat', 'table ip6 filter', 'table inet CRIUX', 'table inet my-CRIU-1',
    'table ip CRIU-abc', 'table bridge CRIU-abc', 'table inet CRIU-', 'table inet CRIU-a;b', 'table inet CRIU-x y'];
  t.same(staleLockTables(own.join('\n')), []);
});

t.test('each entry is "family name", as `nft delete table` takes it', async (t) => {
  for (const entry of staleLockTables('table inet CRIU-1\ntable inet CRIU-2')) {
    const parts = entry.split(' ');
    t.equal(parts.length, 2, entry);
    t.equal(parts[0], 'inet');
    t.match(parts[1], /^CRIU-\d$/);
  }
});

t.test('whitespace and empty output are tolerated', async (t) => {
  t.same(staleLockTables(''), []);
  t.same(staleLockTables('\n\n'), []);
  t.same(staleLockTables('  table inet CRIU-abc  \r\n\ttable   inet   CRIU-def\n'), ['inet CRIU-abc', 'inet CRIU-def']);
});
