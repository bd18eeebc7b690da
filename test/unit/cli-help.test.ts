/** `ferry --help` as an admin reads it: every description whole, at the widths terminals have. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../lab/lab.js';

const FERRY = join(REPO, 'bin', 'ferry');

function help(args: string[], columns: number): string {
  // yargs sizes its help to the terminal; a pipe has none, so the width is given as a terminal would
  const script = `process.stdout.columns = ${columns}; process.argv = ['node', 'ferry', ...${JSON.stringify(args)}]; require(${JSON.stringify(FERRY)});`;
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
}

/** Words of `text`, with the help's layout (line breaks, column padding) gone. */
const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

for (const columns of [80, 120]) {
  t.test(`at ${columns} columns no word is broken across lines`, async (t) => {
    const out = help(['--help'], columns);
    const all = new Set(words(out));
    for (const word of ['Pacemaker', 'clusters.', 'through', 'authenticate', 'completion', 'addresses']) {
      t.ok(all.has(word), `"${word}" appears whole`, { output: out });
    }
    t.ok(out.split('\n').every((l) => l.length <= columns), `no line longer than ${columns}`);
  });
}
