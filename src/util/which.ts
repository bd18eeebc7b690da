/** Finds an executable the way the shell would, without running a shell. */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function which(command: string, pathVar = process.env.PATH): string | undefined {
  if (command.includes('/')) return isExecutableFile(command) ? command : undefined;
  for (const dir of (pathVar || FALLBACK_PATH).split(':')) {
    if (dir && isExecutableFile(join(dir, command))) return join(dir, command);
  }
  return undefined;
}
