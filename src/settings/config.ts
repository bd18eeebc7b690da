/**
 * Raw parameter values (by parameter name, as the CIB holds them) → typed Config through the parameter table,
 * then each part's checks across parameters. The front doors say where the raw values come from.
 */
import { ParamError } from './param-types.js';
import { PARAMS, PARTS, RENAMED, type Config, type ParamName } from './params.js';

export type RawSettings = Readonly<Record<string, string | undefined>>;

export interface ConfigResult {
  config: Config | undefined;
  errors: ParamError[];
  /** One line per deprecated name in use, for the log (not for every monitor). */
  deprecations: string[];
}

/** Pure: deprecated names moved to their current ones; both names set to different values is an error. */
export function resolveRenamed(raw: RawSettings): { raw: RawSettings; errors: ParamError[]; deprecations: string[]; givenAs: Map<string, string> } {
  const resolved: Record<string, string | undefined> = { ...raw };
  const errors: ParamError[] = [];
  const deprecations: string[] = [];
  /** current name -> the deprecated name its value was given under */
  const givenAs = new Map<string, string>();
  for (const [old, now] of Object.entries(RENAMED)) {
    const value = raw[old];
    if (value === undefined) continue;
    delete resolved[old];
    if (raw[now] !== undefined && raw[now] !== value) {
      errors.push(new ParamError(old, `is the deprecated name of ${now}, which is set too, to another value ("${raw[now]}" and "${value}"): remove ${old}`));
      continue;
    }
    resolved[now] = value;
    givenAs.set(now, old);
    // the value is not repeated: it need not be safe to paste into a shell
    deprecations.push(`parameter ${old} is deprecated: it is now called ${now}; rename it in the CIB `
      + `(crm_resource --resource RSC --set-parameter ${now} --parameter-value VALUE, then --delete-parameter ${old})`);
  }
  return { raw: resolved, errors, deprecations, givenAs };
}

/** A bad value is reported under the name the admin wrote. */
function asGiven(err: ParamError, givenAs: ReadonlyMap<string, string>): ParamError {
  const old = givenAs.get(err.param);
  if (!old) return err;
  return new ParamError(old, `${err.message.slice(`parameter ${err.param}: `.length)} (${old} is the deprecated name of ${err.param})`);
}

export function parseSettings(given: RawSettings): ConfigResult {
  const { raw, errors, deprecations, givenAs } = resolveRenamed(given);
  if (errors.length > 0) return { config: undefined, errors, deprecations };
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(PARAMS) as ParamName[]) {
    try {
      values[name] = PARAMS[name].parse(name, raw[name]);
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      errors.push(asGiven(err, givenAs));
    }
  }
  if (errors.length > 0) return { config: undefined, errors, deprecations };
  const config = values as Config;
  for (const part of PARTS) errors.push(...(part.crossChecks?.(config) ?? []));
  return { config: errors.length ? undefined : config, errors, deprecations };
}

/** Parameters a live migration needs beyond those start needs. */
export function migrationProblems(c: Config): ParamError[] {
  return c.state_dir === undefined
    ? [new ParamError('state_dir', 'is required for live migration (allow-migrate=true): set it to a directory on shared storage')]
    : [];
}

/**
 * The lenient reading stop uses when the configuration is invalid: every parameter that does not parse falls
 * back to its default, so a container that was started under an earlier, valid configuration can still be
 * found by its name and stopped. Undefined when even the name is unusable (then nothing can be running).
 */
export function parseSettingsForStop(given: RawSettings): Config | undefined {
  const raw = resolveRenamed(given).raw;
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(PARAMS) as ParamName[]) {
    const param = PARAMS[name];
    try {
      values[name] = param.parse(name, raw[name]);
    } catch {
      if (param.required) return undefined;
      values[name] = param.parse(name, undefined);
    }
  }
  return values as Config;
}
