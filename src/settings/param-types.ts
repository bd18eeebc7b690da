/**
 * Building blocks of the parameter table: each parameter knows its metadata (content type, descriptions) and how
 * to parse and check its raw string (an `OCF_RESKEY_*` variable, a CIB attribute) into a typed value. Parsers
 * throw ParamError with a message an admin can act on.
 */
export type ParamType = 'string' | 'integer' | 'boolean';

export class ParamError extends Error {
  constructor(readonly param: string, message: string) {
    super(`parameter ${param}: ${message}`);
  }
}

export interface Param<T> {
  readonly type: ParamType;
  readonly shortdesc: string;
  readonly longdesc: string;
  readonly required: boolean;
  readonly unique: boolean;
  /** The default as written in the metadata, if there is one. */
  readonly defaultText: string | undefined;
  /** What a number counts ("seconds", "4 KiB pages"): every integer parameter says it, and its longdesc with it. */
  readonly unit: string | undefined;
  /** Turns the raw environment value (undefined when unset) into the typed value, or throws ParamError. */
  parse(param: string, raw: string | undefined): T;
}

interface Describe {
  shortdesc: string;
  longdesc: string;
  unique?: boolean;
  unit?: string;
}

const MAX_VALUE_LENGTH = 4096;

function checkRaw(param: string, raw: string): void {
  if (raw.length > MAX_VALUE_LENGTH) throw new ParamError(param, `value is longer than ${MAX_VALUE_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new ParamError(param, 'value contains control characters (newline, tab, ...)');
}

type Check<T> = (value: string) => T;

/** A value that must be set (and not empty). */
export function required<T>(type: ParamType, d: Describe, check: Check<T>): Param<T> {
  return {
    type, shortdesc: d.shortdesc, longdesc: d.longdesc, required: true, unique: d.unique ?? false, defaultText: undefined, unit: d.unit,
    parse(param, raw) {
      if (raw === undefined || raw === '') throw new ParamError(param, 'is required but not set');
      checkRaw(param, raw);
      return named(param, () => check(raw));
    },
  };
}

/** A value with no default: unset or empty means "not used". */
export function optional<T>(type: ParamType, d: Describe, check: Check<T>): Param<T | undefined> {
  return {
    type, shortdesc: d.shortdesc, longdesc: d.longdesc, required: false, unique: d.unique ?? false, defaultText: undefined, unit: d.unit,
    parse(param, raw) {
      if (raw === undefined || raw === '') return undefined;
      checkRaw(param, raw);
      return named(param, () => check(raw));
    },
  };
}

/** A value with a default: unset means the default; an empty string is an error (unset it instead). */
export function withDefault<T>(type: ParamType, d: Describe, defaultText: string, check: Check<T>): Param<T> {
  return {
    type, shortdesc: d.shortdesc, longdesc: d.longdesc, required: false, unique: d.unique ?? false, defaultText, unit: d.unit,
    parse(param, raw) {
      if (raw === undefined) return named(param, () => check(defaultText));
      if (raw === '') throw new ParamError(param, `is empty; unset it to use the default "${defaultText}"`);
      checkRaw(param, raw);
      return named(param, () => check(raw));
    },
  };
}

// ---- value checks, each returning the typed value or throwing a plain Error (wrapped by the caller) ----

export function bool(raw: string): boolean {
  // the spellings ocf_is_true accepts
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on', 'y'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', 'n'].includes(v)) return false;
  throw new Error(`"${raw}" is not a boolean (use true or false)`);
}

export function integer(min: number, max: number): Check<number> {
  return (raw) => {
    if (!/^[0-9]+$/.test(raw)) throw new Error(`"${raw}" is not a whole number`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${raw} is out of range ${min}..${max}`);
    return n;
  };
}

export function oneOf<const V extends string>(values: readonly V[]): Check<V> {
  return (raw) => {
    const hit = values.find((v) => v === raw);
    if (hit === undefined) throw new Error(`"${raw}" is not one of: ${values.join(', ')}`);
    return hit;
  };
}

export function matching(pattern: RegExp, what: string): Check<string> {
  return (raw) => {
    if (!pattern.test(raw)) throw new Error(`"${raw}" is not ${what}`);
    return raw;
  };
}

/** Characters allowed in paths: what real installations use, nothing a shell or a log would misread. */
const PATH_CHARS = /^[A-Za-z0-9._+@:,=/-]+$/;

export function absolutePath(raw: string): string {
  if (!raw.startsWith('/')) throw new Error(`"${raw}" is not an absolute path`);
  if (!PATH_CHARS.test(raw)) throw new Error(`"${raw}" contains characters not allowed in a path here (letters, digits and . _ + @ : , = - / only)`);
  const parts = raw.split('/');
  if (parts.some((p) => p === '..' || p === '.')) throw new Error(`"${raw}" contains "." or ".." components`);
  if (raw.replace(/\/+$/, '') === '') throw new Error('"/" cannot be used');
  return raw.replace(/\/+$/, '').replace(/\/{2,}/g, '/');
}

/** Wraps a check so its plain Error becomes a ParamError naming the parameter. */
export function named<T>(param: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ParamError) throw err;
    throw new ParamError(param, err instanceof Error ? err.message : String(err));
  }
}

/** A set of parameters by name. */
export type ParamTable = Readonly<Record<string, Param<unknown>>>;

/** The typed values a set of parameters yields. */
export type ValuesOf<P extends ParamTable> = { readonly [K in keyof P]: ReturnType<P[K]['parse']> };

/**
 * One part of the parameter table: the parameters a driver, a storage kind or a concern declares, and its checks
 * across them (given the values of `Context`'s parameters too, which are always parsed with them).
 */
export interface ParamPart<P extends ParamTable, Context = object> {
  readonly title: string;
  /** Who uses these parameters, as the metadata and the man page say it ("driver=native"); undefined: every container. */
  readonly appliesTo: string | undefined;
  readonly params: P;
  /**
   * Earlier names, still accepted as deprecated aliases (old name -> current name): a CIB written for an earlier
   * Ferry keeps working, with a warning in the log; setting both names to different values is an error.
   */
  readonly renamed?: Readonly<Record<string, string>>;
  crossChecks?(values: ValuesOf<P> & Context): ParamError[];
}
