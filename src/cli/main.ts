/** The `ferry` command line. Exit codes: 0 success, 1 the operation failed, 2 usage error. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatStatus, localStatus } from './status.js';
import { AGENT_VERSION } from '../ocf/description.js';

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);
}

async function guarded(action: () => Promise<boolean>): Promise<void> {
  try {
    process.exitCode = (await action()) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  await yargs(hideBin(['node', 'ferry', ...argv]))
    .scriptName('ferry')
    .usage('$0 <command> [options]\n\nLive migration of Linux containers for Pacemaker clusters.')
    .command('status [name]', 'containers on this node and their state', (y) => y
      .positional('name', { type: 'string', describe: 'only this container' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
    (args) => {
      const rows = localStatus(args.name);
      print(args.json, rows, formatStatus(rows));
    })
    .command('migrate <resource> <node>', 'move a container resource live to a node through Pacemaker, and follow it', (y) => y
      .positional('resource', { type: 'string', demandOption: true, describe: 'Pacemaker resource id' })
      .positional('node', { type: 'string', demandOption: true, describe: 'target node' })
      .option('keep-constraint', { type: 'boolean', default: false, describe: 'keep the cli-prefer constraint crm_resource --move creates' })
      .option('timeout', { type: 'number', default: 600, describe: 'seconds to wait for the resource to settle' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' }),
    (args) => guarded(async () => {
      const { migrate } = await import('./migrate.js');
      const r = await migrate({ resource: args.resource, node: args.node, keepConstraint: args['keep-constraint'], timeoutS: args.timeout, json: args.json });
      if (args.json) print(true, r, '');
      else if (r.failedActions.length) process.stderr.write(`ferry: Pacemaker reports failed actions:\n  ${r.failedActions.join('\n  ')}\n`);
      return r.ok;
    }))
    .command('evacuate [node]', 'move every container off a node (standby or health red) and wait until none is left', (y) => y
      .positional('node', { type: 'string', describe: 'node to drain (default: this one)' })
      .option('via', { choices: ['standby', 'health'] as const, default: 'standby' as const, describe: 'how to drain: node standby, or #health-ferry=red (needs node-health-strategy=migrate-on-red)' })
      .option('timeout', { type: 'number', default: 1800, describe: 'seconds to wait' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' }),
    (args) => guarded(async () => {
      const { evacuate } = await import('./evacuate.js');
      const r = await evacuate({ node: args.node, via: args.via, timeoutS: args.timeout, json: args.json });
      if (args.json) print(true, r, '');
      return r.ok;
    }))
    .command('check <resource> <target>', 'pre-migration checks on this node, freezing nothing (like vzmigrate --check-only)', (y) => y
      .positional('resource', { type: 'string', demandOption: true, describe: 'Pacemaker resource id' })
      .positional('target', { type: 'string', demandOption: true, describe: 'node it would migrate to' })
      .option('force', { type: 'boolean', default: false, describe: 'a CPU mismatch with the target is a warning, not a failure (like pmigrate -f; cpu_check_force=true for the resource)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' }),
    (args) => guarded(async () => {
      const { check, formatCheck } = await import('./check.js');
      const r = await check(args.resource, args.target, args.force);
      print(args.json, r, formatCheck(r));
      return r.ok;
    }))
    .command('keygen', 'create the shared key the helpers authenticate each other with (copy it to every node)', (y) => y
      .option('authkey', { type: 'string', default: '/etc/ferry/authkey', describe: 'where to write it (0600)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing key' }),
    (args) => guarded(async () => {
      const { generateAuthkey } = await import('../helper/authkey.js');
      generateAuthkey(args.authkey, args.force);
      process.stdout.write(`wrote ${args.authkey} (0600); copy it to every node, e.g. with scp -p\n`);
      return true;
    }))
    .command('serve', 'run the helper: authenticated (TLS-PSK) image transfers and health queries, on the given addresses only', (y) => y
      .option('listen', { type: 'string', demandOption: true, describe: 'comma-separated addresses to listen on (migration and back-channel)' })
      .option('port', { type: 'number', default: 7787 })
      .option('authkey', { type: 'string', default: '/etc/ferry/authkey' })
      .option('dir', { type: 'string', default: '/var/lib/ferry', describe: 'where checkpoints are kept per resource: the resources\' state_dir (storage=none)' })
      .option('max-bytes', { type: 'number', default: 64 * 1024 ** 3, describe: 'largest transfer accepted' })
      .option('criu', { type: 'string', default: 'criu', describe: 'CRIU binary whose version health queries report' }),
    (args) => guarded(async () => {
      const { runHelper } = await import('../helper/run.js');
      await runHelper({ listen: args.listen, port: args.port, authkey: args.authkey, dir: args.dir, maxBytes: args['max-bytes'], criu: args.criu });
      return true;
    }))
    .command('health <colour>', 'set this node\'s #health-ferry attribute (red drains it with migrate-on-red)', (y) => y
      .positional('colour', { choices: ['red', 'yellow', 'green'] as const, demandOption: true })
      .option('node', { type: 'string', describe: 'node (default: this one)' })
      .option('reason', { type: 'string', describe: 'why, recorded as the ferry-health-reason attribute' }),
    (args) => guarded(async () => {
      const { localNode, setHealth } = await import('./pacemaker.js');
      const node = args.node ?? await localNode();
      await setHealth(node, args.colour, args.reason);
      process.stdout.write(`${node}: #health-ferry=${args.colour}${args.reason ? ` (${args.reason})` : ''}\n`);
      return true;
    }))
    .completion('completion', 'print a bash completion script (ferry completion >> ~/.bashrc)')
    .command('version', 'print the version', () => undefined, () => { process.stdout.write(`ferry ${AGENT_VERSION}\n`); })
    .demandCommand(1, 'give a command; see ferry --help')
    .strict()
    .fail((msg, err) => {
      process.stderr.write(`ferry: ${msg ?? err?.message ?? 'error'}\nsee: ferry --help\n`);
      process.exit(2);
    })
    .help()
    .parseAsync();
}
