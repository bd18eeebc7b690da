/** A complete checkpoint holds the container's memory, secrets included: private to root before anyone reads it. */
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Files 0600, directories (pre-copy rounds) 0700; links (CRIU's "parent") left alone: chmod would follow them. */
export function sealImages(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      chmodSync(join(dir, entry.name), 0o700);
      sealImages(join(dir, entry.name));
    } else if (entry.isFile()) {
      chmodSync(join(dir, entry.name), 0o600);
    }
  }
}
