/**
 * The helper's request parser for the cross-node checkpoint ops of storage=none: claim, release and restored
 * name a resource, a checkpoint id and the asking node; held names a resource. Everything else is refused
 * before the helper touches its state directory.
 */
import t from 'tap';
import { parseRequest, RequestError } from '../../src/helper/protocol.js';

const MAX = 4096;
const ID = '20250601120000-0a1b2c3d';
const line = (r: Record<string, unknown>) => JSON.stringify(r);

/** The message of the RequestError `parseRequest` throws, or what happened instead (so the comparison fails). */
function refusal(r: Record<string, unknown> | string): string {
  let parsed: unknown;
  try {
    parsed = parseRequest(typeof r === 'string' ? r : line(r), MAX);
  } catch (err) {
    return err instanceof RequestError ? err.message : `not a RequestError: ${String(err)}`;
  }
  return `accepted as ${JSON.stringify(parsed)}`;
}

t.test('claim, release and restored parse to exactly what the helper acts on', async (t) => {
  for (const op of ['claim', 'release', 'restored'] as const) {
    t.same(parseRequest(line({ op, resource: 'web1', id: ID, node: 'node2.example.com' }), MAX),
      { op, resource: 'web1', id: ID, node: 'node2.example.com' }, op);
  }
  const extra = parseRequest(line({ op: 'claim', resource: 'web1', id: ID, node: 'n1', files: [{ name: '../x', size: 1 }], part: 'pre-1' }), MAX);
  t.same(extra, { op: 'claim', resource: 'web1', id: ID, node: 'n1' }, 'fields of other ops are dropped, not passed on');
  t.same(parseRequest(line({ op: 'release', resource: 'a', id: 'x', node: 'b' }), MAX), { op: 'release', resource: 'a', id: 'x', node: 'b' }, 'shortest names');
  const longest = { op: 'claim', resource: `r${'x'.repeat(62)}`, id: 'i'.repeat(64), node: `n${'y'.repeat(252)}` };
  t.same(parseRequest(line(longest), MAX), longest, 'longest names: resource 63, id 64, node 253 characters');
});

t.test('held needs only a resource', async (t) => {
  t.same(parseRequest(line({ op: 'held', resource: 'web1' }), MAX), { op: 'held', resource: 'web1' });
  t.same(parseRequest(line({ op: 'held', resource: 'web1', id: '../../x', node: 'a b' }), MAX), { op: 'held', resource: 'web1' },
    'id and node are neither needed nor passed on');
});

t.test('resource names that could leave the state directory are refused, for every op', async (t) => {
  const bad: unknown[] = ['', '..', '../web1', 'web1/../x', 'a/b', '.hidden', '-x', '_x', 'a b', 'web\u00001', `r${'x'.repeat(63)}`, 7, null, ['web1'], { name: 'web1' }];
  for (const op of ['claim', 'release', 'restored', 'held']) {
    for (const resource of bad) {
      t.equal(refusal({ op, resource, id: ID, node: 'n1' }), 'invalid resource name', `${op} ${JSON.stringify(resource)}`);
    }
    t.equal(refusal({ op, id: ID, node: 'n1' }), 'invalid resource name', `${op} without a resource`);
  }
});

t.test('checkpoint ids are checked like transfer ids', async (t) => {
  const bad: unknown[] = ['', '.', '..', '../x', 'a/b', 'a_b', 'a.b', 'a b', '20250601120000-0a1b2c3d\n', 'i'.repeat(65), 20250601120000, null, undefined];
  for (const op of ['claim', 'release', 'restored']) {
    for (const id of bad) {
      t.equal(refusal({ op, resource: 'web1', id, node: 'n1' }), 'invalid checkpoint id', `${op} ${JSON.stringify(id)}`);
    }
  }
});

t.test('node names are checked', async (t) => {
  const bad: unknown[] = ['', '.node', '-node', 'node 2', 'node/2', 'node:2', 'nöde', `n${'y'.repeat(253)}`, 2, null, undefined];
  for (const op of ['claim', 'release', 'restored']) {
    for (const node of bad) {
      t.equal(refusal({ op, resource: 'web1', id: ID, node }), 'invalid node name', `${op} ${JSON.stringify(node)}`);
    }
  }
});

t.test('unknown ops are refused, also when they look like known ones', async (t) => {
  for (const op of ['delete', 'Claim', 'CLAIM', 'claim ', 'releases', 'restore', 'hold', 'constructor', 'toString', '__proto__', '', 1, null, ['claim']]) {
    t.equal(refusal({ op, resource: 'web1', id: ID, node: 'n1' }), `unknown op ${JSON.stringify(op)}`, JSON.stringify(op));
  }
  t.equal(refusal({ resource: 'web1', id: ID, node: 'n1' }), 'unknown op undefined', 'no op at all');
});

t.test('lines that are not a JSON object are refused', async (t) => {
  t.equal(refusal('claim web1'), 'request is not JSON');
  t.equal(refusal(''), 'request is not JSON');
  for (const s of ['null', '"claim"', '42', 'true']) t.equal(refusal(s), 'request is not an object', s);
});
