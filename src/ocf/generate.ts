/** Regenerates the committed heartbeat-meta.xml and man/ocf_ferry_container.7 from the tables. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildManPage } from './manpage.js';
import { buildMetadata } from './metadata.js';
import { packageRoot } from '../util/package-root.js';

const root = packageRoot();
writeFileSync(join(root, 'heartbeat-meta.xml'), buildMetadata());
mkdirSync(join(root, 'man'), { recursive: true });
writeFileSync(join(root, 'man', 'ocf_ferry_container.7'), buildManPage());
process.stdout.write('wrote heartbeat-meta.xml and man/ocf_ferry_container.7\n');
