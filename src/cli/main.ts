/**
 * The `ferry` command line. Exit codes (cli/outcomes.ts): 0 success, 1 the operation failed or was refused, 2 usage
 * error or a bad request, 3 the resource's configuration is invalid, 4 something this node needs is missing, 5 (ferry
 * check) a check could not be made.
 */
import { createRequire } from 'node:module';
import type yargsModule from 'yargs';
import type * as yargsHelpers from 'yargs/helpers';
import { formatStatus, statusOf } from './status.js';
import { FERRY_VERSION } from '../util/version.js';
import { CHECK_STATUS, checkFailure, cliFailure, EXIT_STATUSES } from './outcomes.js';
import { badRequest } from '../util/errors.js';
import { MIGRATION_PARAMS } from '../settings/parts/migration.js';

// yargs' ES module build lays its help out with cliui's ES build, which breaks lines in the middle of words; the
// CommonJS build wraps at word boundaries
const requireCjs = createRequire(import.meta.url);
const yargs = requireCjs('yargs') as typeof yargsModule;
const { hideBin } = requireCjs('yargs/helpers') as typeof yargsHelpers;

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);
}

/** `action` answers true (0), false (1) or its own status; what it throws becomes a status through `failure`. */
async function guarded(action: () => Promise<boolean | number>, failure = cliFailure): Promise<void> {
  try {
    const r = await action();
    process.exitCode = typeof r === 'number' ? r : r ? 0 : 1;
  } catch (err) {
    const f = failure(err);
    process.stderr.write(`${f.line}\n`);
    process.exitCode = f.status;
  }
}

/** A setting of /etc/default/ferry (the systemd unit's EnvironmentFile); empty counts as unset. */
const env = (name: string): string | undefined => process.env[name] || undefined;

/** --mn-suffix, checked as the resources' migration_network_suffix is. */
function mnSuffixes(raw: string): string[] {
  try {
    return MIGRATION_PARAMS.migration_network_suffix.parse('migration_network_suffix', raw);
  } catch (err) {
    throw badRequest(`--mn-suffix (FERRY_MN_SUFFIX): ${err instanceof Error ? err.message : String(err)}`);
  }
}

const RESOURCE_OR_NAME = 'the Pacemaker resource id or the container\'s name (its name parameter): either is accepted';

export async function main(argv: readonly string[]): Promise<void> {
  await yargs(hideBin(['node', 'ferry', ...argv]))
    .scriptName('ferry')
    .usage('$0 <command> [options]\n\nLive migration of Linux containers for Pacemaker clusters.')
    .command('status [name]', 'containers on this node and their state', (y) => y
      .positional('name', { type: 'string', describe: `only this container: ${RESOURCE_OR_NAME}` })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
    (args) => guarded(async () => {
      const rows = await statusOf(args.name);
      print(args.json, rows, rows.length || args.name === undefined ? formatStatus(rows) : `no container ${args.name} on this node\n`);
      return true;
    }))
    .command('migrate <resource> <node>', 'move a container resource live to a node through Pacemaker, and follow it', (y) => y
      .positional('resource', { type: 'string', demandOption: true, describe: RESOURCE_OR_NAME })
      .positional('node', { type: 'string', demandOption: true, describe: 'target node' })
      .option('keep-constraint', { type: 'boolean', default: false, describe: 'keep the cli-prefer constraint crm_resource --move creates' })
      .option('timeout', { type: 'number', default: 600, describe: 'seconds to wait for the resource to settle' })
      .option('force', { type: 'boolean', default: false, describe: 'a CPU mismatch with the target does not refuse the move (as ferry check --force)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' }),
    (args) => guarded(async () => {
      const { migrate } = await import('./migrate.js');
      const r = await migrate({ resource: args.resource, node: args.node, keepConstraint: args['keep-constraint'], timeoutS: args.timeout, json: args.json, forceCpu: args.force });
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
    .command('check <resource> <target>', 'pre-migration checks on this node, freezing nothing (like vzmigrate --check-only); exit 0 it can migrate, 1 migrate_to would refuse, 5 a check could not be made', (y) => y
      .positional('resource', { type: 'string', demandOption: true, describe: RESOURCE_OR_NAME })
      .positional('target', { type: 'string', demandOption: true, describe: 'node it would migrate to' })
      .option('force', { type: 'boolean', default: false, describe: 'a CPU mismatch with the target, or CPUs that could not be compared, is a warning, not a failure (like pmigrate -f; cpu_check_force=true for the resource)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable result' }),
    (args) => guarded(async () => {
      const { check, formatCheck } = await import('./check.js');
      const r = await check(args.resource, args.target, args.force);
      print(args.json, r, formatCheck(r));
      return CHECK_STATUS[r.verdict];
    }, checkFailure))
    .command('keygen', 'create the shared key the helpers authenticate each other with (copy it to every node)', (y) => y
      .option('authkey', { type: 'string', default: '/etc/ferry/authkey', describe: 'where to write it (0600)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing key' }),
    (args) => guarded(async () => {
      const { generateAuthkey } = await import('../helper/authkey.js');
      generateAuthkey(args.authkey, args.force);
      process.stdout.write(`wrote ${args.authkey} (0600); copy it to every node, e.g. with scp -p\n`);
      return true;
    }))
    .command('serve', 'run the helper: authenticated (TLS-PSK) image transfers and health queries, on this node\'s migration-network and back-channel addresses only (settings: /etc/default/ferry)', (y) => y
      .option('listen', { type: 'string', default: env('FERRY_LISTEN'), defaultDescription: '$FERRY_LISTEN, else derived', describe: 'comma-separated addresses to listen on; unset: the addresses NODE.mn (each --mn-suffix) and NODE (corosync\'s nodelist, the resolver) have on this node, refusing to start where they are not this node\'s; never 0.0.0.0' })
      .option('mn-suffix', { type: 'string', default: env('FERRY_MN_SUFFIX') ?? '.mn', defaultDescription: '$FERRY_MN_SUFFIX, else .mn', describe: 'migration-network name suffixes, comma-separated, as the resources\' migration_network_suffix' })
      .option('node', { type: 'string', default: env('FERRY_NODE'), defaultDescription: '$FERRY_NODE, else corosync\'s entry for this machine', describe: 'this node\'s cluster name' })
      .option('port', { type: 'number', default: Number(env('FERRY_PORT') ?? 7787), defaultDescription: '$FERRY_PORT, else 7787', describe: 'TCP port (the resources\' helper_port)' })
      .option('authkey', { type: 'string', default: env('FERRY_AUTHKEY') ?? '/etc/ferry/authkey', defaultDescription: '$FERRY_AUTHKEY, else /etc/ferry/authkey' })
      .option('dir', { type: 'string', default: env('FERRY_DIR') ?? '/var/lib/ferry', defaultDescription: '$FERRY_DIR, else /var/lib/ferry', describe: 'where checkpoints are kept per resource: the resources\' state_dir (storage=none)' })
      .option('max-bytes', { type: 'number', default: Number(env('FERRY_MAX_BYTES') ?? 64 * 1024 ** 3), defaultDescription: '$FERRY_MAX_BYTES, else 64 GiB', describe: 'largest transfer accepted (bytes)' })
      .option('criu', { type: 'string', default: env('FERRY_CRIU') ?? 'criu', defaultDescription: '$FERRY_CRIU, else criu', describe: 'CRIU binary whose version health queries report' }),
    (args) => guarded(async () => {
      const { runHelper } = await import('../helper/run.js');
      const { checkpointKeeper } = await import('../migrate/checkpoint-keeper.js');
      const { imageLookup } = await import('../migrate/image-check.js');
      const { containerWatch } = await import('../migrate/watch.js');
      if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535) throw badRequest(`--port (FERRY_PORT): ${args.port} is not a TCP port`);
      if (!Number.isSafeInteger(args['max-bytes']) || args['max-bytes'] < 1) throw badRequest(`--max-bytes (FERRY_MAX_BYTES): ${args['max-bytes']} is not a positive number of bytes`);
      await runHelper({
        listen: args.listen, mnSuffixes: mnSuffixes(args['mn-suffix']), node: args.node,
        port: args.port, authkey: args.authkey, dir: args.dir, maxBytes: args['max-bytes'], criu: args.criu,
        checkpoints: checkpointKeeper, images: imageLookup(args.criu), watch: containerWatch(),
      });
      return true;
    }))
    .command('health [colour]', 'set one health source\'s attribute on this node (#health-ferry by hand, #health-ferry-SOURCE for hooks); without a colour, show every node\'s', (y) => y
      .positional('colour', { choices: ['red', 'yellow', 'green'] as const, describe: 'red drains the node under migrate-on-red; see the README for each node-health-strategy' })
      .option('source', { type: 'string', describe: 'which indicator (smartd-dev-sda-health, ipmi-psu1): its own attribute #health-ferry-SOURCE, so one source cannot clear another' })
      .option('all', { type: 'boolean', default: false, describe: 'with green: clear every #health-ferry* attribute of the node' })
      .option('node', { type: 'string', describe: 'node (default: this one)' })
      .option('reason', { type: 'string', describe: 'why, recorded as ferry-health-reason[-SOURCE]' })
      .option('force', { type: 'boolean', default: false, describe: 'set it even if no node would be left healthy enough for the containers' }),
    (args) => guarded(async () => {
      const { health } = await import('./health.js');
      const r = await health({ colour: args.colour, source: args.source, all: args.all, node: args.node, reason: args.reason, force: args.force });
      process.stdout.write(r.text);
      for (const w of r.warnings) process.stderr.write(`ferry: WARNING: ${w}\n`);
      return true;
    }))
    .completion('completion', 'print a bash completion script (ferry completion >> ~/.bashrc)')
    .command('version', 'print the version', () => undefined, () => { process.stdout.write(`ferry ${FERRY_VERSION}\n`); })
    .demandCommand(1, 'give a command; see ferry --help')
    .strict()
    .fail((msg, err) => {
      process.stderr.write(`ferry: ${msg ?? err?.message ?? 'error'}\nsee: ferry --help\n`);
      process.exit(2);
    })
    .epilogue(`Exit statuses:\n${EXIT_STATUSES.map(([n, what]) => `  ${n}  ${what}`).join('\n')}\n\nman ferry has the details.`)
    .help()
    .parseAsync();
}
