/** One result of a pre-migration check: what was checked, whether it passed, and whether it stops a migration. */
import type { FailureKind } from '../util/errors.js';

export interface Finding {
  check: string;
  ok: boolean;
  /** fatal findings stop a migration before anything is frozen */
  fatal: boolean;
  detail: string;
  /** the kind of failure a fatal finding makes of migrate_to */
  kind: FailureKind;
  /** the check could not be made (no answer to compare with): fatal or not, it is not a "no" */
  unknown?: boolean;
}
