/**
 * The one table from the engine's domain errors to OCF exit codes, and the exit reason Pacemaker shows. Anything
 * else thrown is a generic error (1) with its message: never a stack trace on stderr.
 */
import { FerryError, type FailureKind } from '../util/errors.js';
import { OCF, OcfError, type OcfCode } from './exit-codes.js';

export const OCF_CODE_OF: Readonly<Record<FailureKind, OcfCode>> = {
  'bad-request': OCF.ERR_ARGS,
  misconfigured: OCF.ERR_CONFIGURED,
  'not-installed': OCF.ERR_INSTALLED,
  // a refusal is not a fault of the node: 5 or 6 would make Pacemaker ban the resource from it
  refused: OCF.ERR_GENERIC,
  failed: OCF.ERR_GENERIC,
};

export interface OcfFailure { code: OcfCode; reason: string }

/** What an action that threw `err` exits with; `action` names it when nothing better is known. */
export function ocfFailure(err: unknown, action: string): OcfFailure {
  if (err instanceof OcfError) return { code: err.code, reason: err.reason };
  if (err instanceof FerryError) return { code: OCF_CODE_OF[err.kind], reason: err.message };
  return { code: OCF.ERR_GENERIC, reason: `${action} failed: ${err instanceof Error ? err.message : String(err)}` };
}
