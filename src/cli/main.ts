/** The `ferry` command line. Exit codes: 0 success, 1 failure, 2 usage error. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatStatus, localStatus } from './status.js';
import { AGENT_VERSION } from '../ocf/description.js';

export async function main(argv: readonly string[]): Promise<void> {
  await yargs(hideBin(['node', 'ferry', ...argv]))
    .scriptName('ferry')
    .usage('$0 <command> [options]\n\nLive migration of Linux containers for Pacemaker clusters.')
    .command('status [name]', 'containers on this node and their state', (y) => y
      .positional('name', { type: 'string', describe: 'only this container' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
    (args) => {
      const rows = localStatus(args.name);
      process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : formatStatus(rows));
    })
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
