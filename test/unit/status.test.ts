/**
 * `ferry status`: the containers this node runs, from the agent's node-local records (kept in FERRY_RUN_DIR,
 * here a temporary directory), shown as an aligned table.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatStatus, localStatus, type StatusRow } from '../../src/cli/status.js';
import { readLocalRecord, writeLocalRecord, writeRestoreIntent, type LocalRecord } from '../../src/runtime/local-record.js';
import { identityOf } from '../../src/util/proc.js';

const runDir = mkdtempSync(join(tmpdir(), 'ferry-run-'));
process.env.FERRY_RUN_DIR = runDir;
t.teardown(() => rmSync(runDir, { recursive: true, force: true }));

const me = identityOf(process.pid);
if (!me) throw new Error('cannot read this process\'s identity');

function local(name: string, change: Partial<LocalRecord> = {}): LocalRecord {
  return { name, pid: me!.pid, startTime: me!.startTime, pidNamespace: 'pid:[4026531836]', hostInterface: undefined,
    origin: 'start', since: '2025-06-01T12:00:00.000Z', ...change };
}

const ROWS: StatusRow[] = [
  { name: 'web1', state: 'running', pid: 4242, origin: 'start', since: '2025-06-01T12:00:00.000Z', lastMigration: undefined },
  { name: 'database-primary', state: 'dead', pid: 17, origin: 'restore', since: '2025-06-01T12:30:00.000Z', lastMigration: {
    id: 'm1', name: 'database-primary', source: 'node1', target: 'node2', type: 'simple', downtimeMs: 412, frozenMs: 40,
    dumpMs: 90, handoverMs: 250, restoreMs: 60, pagesWritten: 100, bytesWritten: 409600, pagesRestored: 100 } },
];

t.test('no containers: one plain sentence', async (t) => {
  t.equal(formatStatus([]), 'no containers on this node\n');
});

t.test('the table has a header, one line per container, aligned columns and no trailing blanks', async (t) => {
  const text = formatStatus(ROWS);
  t.ok(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  t.equal(lines.length, 3);
  t.match(lines[0], /^NAME +STATE +PID +ORIGIN +SINCE +LAST-MIGRATION$/);
  t.match(lines[1], /^web1 +running +4242 +start +2025-06-01T12:00:00.000Z +-$/);
  t.match(lines[2], /^database-primary +dead +17 +restore +2025-06-01T12:30:00.000Z +node1->node2:simple:412ms$/, 'the last migration, from its summary');
  const columnStarts = (line: string) => [...line.matchAll(/\S+/g)].map((m) => m.index);
  for (const line of lines) t.same(columnStarts(line), columnStarts(lines[0] ?? ''), `aligned: ${line}`);
  t.same(lines.filter((l) => l !== l.trimEnd()), []);
  t.equal(lines[1]?.indexOf('running'), 'database-primary'.length + 2, 'the NAME column is as wide as the longest name, plus two');
});

t.test('localStatus lists each recorded container, running or dead by its identity', async (t) => {
  writeLocalRecord(local('web1'));
  writeLocalRecord(local('web2', { startTime: me.startTime + 1, origin: 'restore' }));
  const rows = localStatus();
  t.same(rows.map((r) => [r.name, r.state, r.origin]).sort(), [['web1', 'running', 'start'], ['web2', 'dead', 'restore']]);
  t.same(localStatus('web2').map((r) => r.name), ['web2'], 'filtered by name');
  t.same(localStatus('nope'), []);
});

t.test('the agent\'s other files in the run directory are not containers', async (t) => {
  writeFileSync(join(runDir, 'capabilities-0123456789ab.json'), '{"key": "x", "capabilities": {}}');
  writeRestoreIntent({ name: 'web3', pidFile: '/run/ferry/web3.pid', migrationId: 'm1', since: '2025-06-01T12:00:00.000Z' });
  writeFileSync(join(runDir, 'notes.txt'), 'not json');
  t.same(localStatus().map((r) => r.name).sort(), ['web1', 'web2']);
});

t.test('no run directory yet: no containers', async (t) => {
  const saved = process.env.FERRY_RUN_DIR;
  process.env.FERRY_RUN_DIR = join(runDir, 'does-not-exist');
  t.teardown(() => { process.env.FERRY_RUN_DIR = saved; });
  t.same(localStatus(), []);
});

t.test('a container named like another one\'s restore intent keeps its own record', async (t) => {
  const victim = local('web.restoring');
  writeLocalRecord(victim);
  writeRestoreIntent({ name: 'web', pidFile: '/run/ferry/web.pid', migrationId: 'm2', since: '2025-06-01T13:00:00.000Z' });
  t.same(readLocalRecord('web.restoring'), JSON.parse(JSON.stringify(victim)), 'a restore of "web" does not overwrite the record of "web.restoring"');
  t.ok(localStatus().some((r) => r.name === 'web.restoring'), '"web.restoring" is listed by ferry status');
});
