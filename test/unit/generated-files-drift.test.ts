/**
 * Drift check: heartbeat-meta.xml and man/ocf_ferry_container.7 are committed (packagers and admins read them
 * without building), but generated from the parameter and action tables. They must equal what the tables
 * produce now; a failure means a table changed without regenerating.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMetadata } from '../../src/ocf/metadata.js';
import { buildManPage } from '../../src/ocf/manpage.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

t.test('committed heartbeat-meta.xml equals buildMetadata() (otherwise: run npm run generate)', async (t) => {
  const committed = readFileSync(join(ROOT, 'heartbeat-meta.xml'), 'utf8');
  t.equal(committed, buildMetadata(),
    'heartbeat-meta.xml is out of date with src/ocf/params.ts and actions.ts: run npm run generate and commit the result');
});

t.test('committed man/ocf_ferry_container.7 equals buildManPage() (otherwise: run npm run generate)', async (t) => {
  const committed = readFileSync(join(ROOT, 'man', 'ocf_ferry_container.7'), 'utf8');
  t.equal(committed, buildManPage(),
    'man/ocf_ferry_container.7 is out of date with src/ocf/params.ts and actions.ts: run npm run generate and commit the result');
});
