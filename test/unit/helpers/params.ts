/** Shared by the parameter tests: one valid raw value per parameter, and catching a parse error. */
import { PARAMS, type ParamName } from '../../../src/ocf/params.js';
import { ParamError } from '../../../src/ocf/param-types.js';

/** A valid `OCF_RESKEY_*` string for every parameter (typed, so a new parameter must be added here). */
export const SAMPLE: Readonly<Record<ParamName, string>> = {
  name: 'web1',
  driver: 'native',
  command: '/usr/bin/python3 -m http.server 8080',
  ip: '10.78.0.50/24',
  bridge: 'br0',
  mac: '02:00:0a:4e:00:32',
  gateway: '10.78.0.1',
  state_dir: '/srv/shared/ferry',
  storage: 'shared',
  migration_type: 'simple',
  migration_type_strict: 'true',
  migration_network_suffix: '.mn,.mn1',
  require_migration_network: 'no',
  migration_address: '%n-mig.example.com',
  criu_binary: '/opt/ferry/criu/criu',
  stop_timeout: '5',
  monitor_cmd: 'curl -fsS http://127.0.0.1:8080/ >/dev/null',
  keep_images: 'off',
  checkpoint_max_age: '60',
};

export const PARAM_NAMES = Object.keys(PARAMS) as ParamName[];

export function parse(name: ParamName, raw: string | undefined): unknown {
  return PARAMS[name].parse(name, raw);
}

/** The exception `fn` throws, or undefined when it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

/**
 * What parsing `raw` says when it refuses it: the ParamError message. Anything else (accepted, another
 * exception type, an error naming another parameter) comes back as a string that cannot match `refusedBy`.
 */
export function refusal(name: ParamName, raw: string | undefined): string {
  const err = thrown(() => parse(name, raw));
  if (err === undefined) return `ACCEPTED ${JSON.stringify(raw)} as ${JSON.stringify(parse(name, raw))}`;
  if (!(err instanceof ParamError)) return `THREW ${String(err)} (not a ParamError)`;
  if (err.param !== name) return `PARAMERROR FOR ${err.param}: ${err.message}`;
  return err.message;
}

/** Matches the message of a refusal of `name`, optionally containing `why` (a regular expression source). */
export function refusedBy(name: ParamName, why = ''): RegExp {
  return new RegExp(`^parameter ${name}: .*${why}`, 's');
}
