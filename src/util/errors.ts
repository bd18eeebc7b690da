/**
 * The errors the engine, the drivers and the tools throw, in the domain's words: what kind of failure it was and,
 * for an action on a container, where the container is now. Only the two front doors know exit codes: each maps
 * these with one table (ocf/outcomes.ts, cli/outcomes.ts).
 */
export const FAILURE_KINDS = ['bad-request', 'misconfigured', 'not-installed', 'refused', 'failed'] as const;

/**
 * - bad-request: the caller asked for what cannot be done (migrating to this node, no target given)
 * - misconfigured: the configuration cannot work on any node (a parameter, a combination, the DRBD resource's setup)
 * - not-installed: this node lacks what the configuration needs (a program, a working CRIU, a bridge, state_dir)
 * - refused: declined before anything was changed (a pre-migration check, a claim another node holds)
 * - failed: it was tried and did not work
 */
export type FailureKind = (typeof FAILURE_KINDS)[number];

export class FerryError extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
  }
}

export const badRequest = (message: string) => new FerryError('bad-request', message);
export const misconfigured = (message: string) => new FerryError('misconfigured', message);
export const notInstalled = (message: string) => new FerryError('not-installed', message);
export const refused = (message: string) => new FerryError('refused', message);
export const failed = (message: string) => new FerryError('failed', message);

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
