/** OCF return codes as Pacemaker interprets them. */
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
} as const;

export type OcfCode = (typeof OCF)[keyof typeof OCF];

/** An action's outcome other than success, with the one-line reason Pacemaker shows to the admin. */
export class OcfError extends Error {
  constructor(readonly code: OcfCode, readonly reason: string) {
    super(reason);
  }
}
