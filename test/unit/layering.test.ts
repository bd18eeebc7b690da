/**
 * The layering of src/, as the README's layout table writes it down: every import (static, type-only, re-export and
 * dynamic) of every file may only reach the folders its folder's row names, and no two files import each other
 * round a cycle. The rules are read from the README, so the documentation and the check cannot drift apart.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = 'src';

/** folder → the folders it may import, from the README's table rows "| `folder` | ... | a, b |". */
export function readRules(readme: string): Map<string, Set<string>> {
  const rules = new Map<string, Set<string>>();
  const lines = readme.split('\n');
  const header = lines.indexOf('| folder | what it is | may import |');
  if (header < 0) throw new Error('no layout table ("| folder | what it is | may import |") in the README');
  const table = lines.slice(header + 2);
  for (const line of table.slice(0, table.findIndex((l) => !l.startsWith('|')))) {
    const m = /^\| `([a-z]+)` \|.*\| ([a-z, –-]+) \|$/.exec(line);
    if (!m) continue;
    const allowed = (m[2] ?? '').split(',').map((x) => x.trim()).filter((x) => /^[a-z]+$/.test(x));
    rules.set(m[1] ?? '', new Set(allowed));
  }
  return rules;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|^import\s+['"](\.[^'"]+)['"]/gm;

/** The src-relative files `file` imports (".js" specifiers name the ".ts" sources). */
export function importsOf(file: string, text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3] ?? '')
    .map((spec) => normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const folderOf = (file: string) => relative(SRC, file).split('/')[0] ?? '';

/** Layer violations: "from → to" for every import a rule forbids. */
export function violations(graph: Map<string, string[]>, rules: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  for (const [from, tos] of graph) {
    const own = folderOf(from);
    const allowed = rules.get(own);
    for (const to of tos) {
      const other = folderOf(to);
      if (other === own) continue;
      if (!allowed) found.push(`${from}: folder ${own} has no row in the README's layout table`);
      else if (!allowed.has(other)) found.push(`${from} imports ${to}: ${own} may import only ${[...allowed].join(', ') || 'nothing of src'}`);
    }
  }
  return found;
}

/** Every import cycle between files (strongly connected components of more than one file, or a file importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index); low.set(v, index); index += 1;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!order.has(w)) { visit(w); low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, order.get(w) ?? 0));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do { w = stack.pop(); if (w !== undefined) { onStack.delete(w); component.push(w); } } while (w !== undefined && w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));
const rules = readRules(readFileSync('README.md', 'utf8'));

t.test('the README\'s table has a row for every folder of src/', async (t) => {
  const folders = [...new Set(files.map(folderOf))].sort();
  t.same([...rules.keys()].sort(), folders);
  t.same([...rules.get('util') ?? ['?']], [], 'util imports nothing of src');
  t.notOk(rules.get('migrate')?.has('ocf') || rules.get('migrate')?.has('cli'), 'the engine knows neither front door');
});

t.test('every import stays within its folder\'s rule', async (t) => {
  t.ok(graph.size > 50 && [...graph.values()].flat().length > 200, `imports read (${graph.size} files)`);
  t.ok([...graph.values()].flat().every((to) => graph.has(to)), 'every import names a file of src/ (the parser reads them right)');
  t.same(violations(graph, rules), []);
});

t.test('no import cycles between files', async (t) => {
  t.same(cycles(graph), []);
});

t.test('the checks themselves catch what they must', async (t) => {
  const bad = new Map([['src/migrate/a.ts', ['src/ocf/b.ts']], ['src/ocf/b.ts', ['src/migrate/a.ts']]]);
  t.match(violations(bad, rules), [/src\/migrate\/a\.ts imports src\/ocf\/b\.ts: migrate may import only/]);
  t.same(cycles(bad), [['src/migrate/a.ts', 'src/ocf/b.ts']]);
  t.same(importsOf('src/ocf/x.ts', "import type { A } from '../settings/params.js';\nconst m = await import('../migrate/y.js');\nexport { B } from './z.js';"),
    ['src/settings/params.ts', 'src/migrate/y.ts', 'src/ocf/z.ts'], 'type-only, dynamic and re-exports are all read');
});
