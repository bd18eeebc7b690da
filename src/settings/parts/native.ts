/** The native driver's part of the table: the container's init command (driver=podman reuses it). */
import { optional, ParamError, type ParamPart, type ValuesOf } from '../param-types.js';
import type { COMMON_PARAMS } from './common.js';

export const NATIVE_PARAMS = {
  command: optional('string', {
    shortdesc: 'Container init command',
    longdesc: 'Command line of the container\'s first process, run by /bin/sh -c inside the container (shell '
      + 'syntax is yours to use; Ferry never interprets it). Required with driver=native. The process becomes PID 1 '
      + 'of the container: when it exits, the container has stopped. Its standard input and output are /dev/null; '
      + 'log to a file if you need output. With driver=podman it is optional: unset, the image\'s own command '
      + 'runs; set, it is run as /bin/sh -c COMMAND in the container (the image must have /bin/sh).',
  }, (raw) => raw),
} as const;

function nativeChecks(c: ValuesOf<typeof NATIVE_PARAMS> & ValuesOf<typeof COMMON_PARAMS>): ParamError[] {
  if (c.driver === 'native' && c.command === undefined) return [new ParamError('command', 'is required with driver=native')];
  return [];
}

export const NATIVE: ParamPart<typeof NATIVE_PARAMS, ValuesOf<typeof COMMON_PARAMS>> = {
  title: 'The init command', appliesTo: 'driver=native or podman', params: NATIVE_PARAMS, crossChecks: nativeChecks,
};
