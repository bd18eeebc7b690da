/**
 * Imported first by the test files in this folder: the agent contract tests they import then run the agent on
 * Debian 12's Node.js 18 (test/lab/install-node18.sh), the node admins' nodes have, instead of the host's.
 */
import { execFileSync } from 'node:child_process';

const bin = process.env.FERRY_NODE18_BIN ?? '/opt/ferry/node18/bin';
let version = '';
try {
  version = execFileSync('/usr/bin/env', ['-i', `PATH=${bin}:/usr/bin:/bin`, 'node', '--version'], { encoding: 'utf8' }).trim();
} catch (err) {
  throw new Error(`no Node.js 18 at ${bin} (run test/lab/install-node18.sh): ${err instanceof Error ? err.message : String(err)}`);
}
if (!version.startsWith('v18.')) throw new Error(`${bin}/node is ${version}, not 18.x`);
process.env.FERRY_AGENT_NODE_BIN = bin;
export const AGENT_NODE_VERSION = version;
