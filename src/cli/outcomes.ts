/**
 * The one table from the engine's domain errors to `ferry`'s exit statuses and the word its message starts with.
 * 0 is success and 2 a usage error (yargs); anything else thrown is a failure (1) with its message. `ferry check`
 * has its own verdicts on top: it answers a question, and "no" (1) is not "I could not find out" (5).
 */
import { FerryError, type FailureKind } from '../util/errors.js';

export interface CliOutcome { status: number; label: string }

export const CLI_OUTCOME_OF: Readonly<Record<FailureKind, CliOutcome>> = {
  failed: { status: 1, label: 'failed' },
  refused: { status: 1, label: 'refused' },
  'bad-request': { status: 2, label: 'bad request' },
  misconfigured: { status: 3, label: 'bad configuration' },
  'not-installed': { status: 4, label: 'not installed here' },
};

/** `ferry check`: 0 it can migrate, 1 a check says migrate_to would refuse, 5 a check could not be made. */
export const CHECK_STATUS = { 'can migrate': 0, 'would refuse': 1, 'could not check': 5 } as const;

/** Every status `ferry` exits with and what it means, for --help and the man page (which a test compares). */
export const EXIT_STATUSES: readonly (readonly [number, string])[] = [
  [0, 'success (ferry check: it can migrate)'],
  [1, 'the operation failed or was refused (ferry check: migrate_to would refuse)'],
  [2, 'usage error or a bad request (an unknown resource or container)'],
  [3, 'the resource\'s configuration is invalid'],
  [4, 'something this node needs is missing'],
  [5, 'ferry check only: a check could not be made (the target\'s helper does not answer, the cluster cannot be asked), so migrate_to would refuse'],
];

/** The status `ferry` exits with for `err`, and the line it writes on stderr. */
export function cliFailure(err: unknown): CliOutcome & { line: string } {
  if (err instanceof FerryError) {
    const outcome = CLI_OUTCOME_OF[err.kind];
    return { ...outcome, line: `ferry: ${outcome.label}: ${err.message}` };
  }
  return { status: 1, label: 'failed', line: `ferry: ${err instanceof Error ? err.message : String(err)}` };
}

/** For `ferry check`: what stopped the check itself (the cluster, a command that failed) is "could not check". */
export function checkFailure(err: unknown): CliOutcome & { line: string } {
  const outcome = cliFailure(err);
  if (outcome.status !== 1) return outcome;
  return { status: CHECK_STATUS['could not check'], label: 'could not check', line: `ferry: could not check: ${err instanceof Error ? err.message : String(err)}` };
}
