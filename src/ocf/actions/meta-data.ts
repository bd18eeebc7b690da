/**
 * meta-data prints the committed heartbeat-meta.xml, generated from the parameter table at build time (a test
 * fails if the file and the table disagree), so this action needs no XML library at run time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../util/package-root.js';
import { OCF, type OcfCode } from '../exit-codes.js';

export function printMetadata(): OcfCode {
  process.stdout.write(readFileSync(join(packageRoot(), 'heartbeat-meta.xml'), 'utf8'));
  return OCF.SUCCESS;
}
