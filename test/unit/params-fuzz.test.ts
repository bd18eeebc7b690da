/**
 * Generated inputs for every parameter (a seeded PRNG, so any failure reproduces): whatever an admin or a
 * broken CIB puts in OCF_RESKEY_*, the agent either accepts it or refuses it with a ParamError that names the
 * parameter. Any other exception would escape as a crash instead of an exit reason.
 */
import t from 'tap';
import { ParamError } from '../../src/settings/param-types.js';
import { parseConfig, parseConfigForStop } from '../../src/ocf/config.js';
import type { ParamName } from '../../src/settings/params.js';
import { PARAM_NAMES, SAMPLE, parse, thrown } from './fixtures/params.js';
import { int, mutate, pick, randomString, seeded, type Random } from './fixtures/random.js';

const SEED = 0x5eed_f022;
const PER_PARAM = 400;

/** Values shaped like each kind of parameter, so the generator also reaches the deeper checks. */
const SHAPES = ['', '0', '-1', '3600', '99999999999999999999', 'yes', 'off', '10.0.0.1/24', '::1/64', '/srv/x', '..',
  'a,b', '%n', 'drbd', 'none', 'iterative+lazy', '02:00:00:00:00:01', '__proto__', 'constructor', 'toString'];

function generate(rnd: Random, name: ParamName): string {
  const r = rnd();
  if (r < 0.05) return SAMPLE[name];
  if (r < 0.45) return mutate(rnd, SAMPLE[name]);
  if (r < 0.55) return mutate(rnd, pick(rnd, SHAPES));
  if (r < 0.60) return randomString(rnd, int(rnd, 4000, 4200));
  return randomString(rnd, 40);
}

/** Why an outcome is wrong, or undefined when it is an acceptance or a proper refusal. */
function wrongOutcome(name: ParamName, raw: string): string | undefined {
  const err = thrown(() => parse(name, raw));
  if (err === undefined) return undefined;
  if (!(err instanceof ParamError)) return `${JSON.stringify(raw)} threw ${String(err)}`;
  if (err.param !== name || !err.message.startsWith(`parameter ${name}: `)) return `${JSON.stringify(raw)}: ${err.message}`;
  return undefined;
}

const NO_SHELL_SYNTAX: ParamName[] = ['name', 'bridge', 'mac', 'ip', 'gateway', 'migration_address', 'migration_network_suffix',
  'driver', 'storage', 'migration_type', 'stop_timeout', 'checkpoint_max_age'];

t.test(`every parameter accepts or refuses with its own ParamError (seed ${SEED.toString(16)}, ${PER_PARAM} values each)`, async (t) => {
  const rnd = seeded(SEED);
  for (const name of PARAM_NAMES) {
    const wrong: string[] = [];
    let accepted = 0;
    let refused = 0;
    const unsafeAccepted: string[] = [];
    for (let i = 0; i < PER_PARAM; i += 1) {
      const raw = generate(rnd, name);
      const problem = wrongOutcome(name, raw);
      if (problem) { wrong.push(problem); continue; }
      if (thrown(() => parse(name, raw)) === undefined) {
        accepted += 1;
        // eslint-disable-next-line no-control-regex
        if (NO_SHELL_SYNTAX.includes(name) && /[\s;&|$`'"\\<>(){}*?!#~\u0000-\u001f\u007f-\uffff]/.test(raw)) unsafeAccepted.push(raw);
      } else {
        refused += 1;
      }
    }
    t.same(wrong, [], `${name}: no other exception, no unnamed error`);
    t.ok(accepted > 0 && refused > 0, `${name}: the generator reached both outcomes (${accepted} accepted, ${refused} refused)`);
    if (NO_SHELL_SYNTAX.includes(name)) {
      t.same(unsafeAccepted, [], `${name}: nothing accepted contains whitespace, shell syntax, controls or non-ASCII`);
    }
  }
});

t.test(`whole random environments never crash parseConfig or parseConfigForStop (seed ${(SEED + 1).toString(16)})`, async (t) => {
  const rnd = seeded(SEED + 1);
  const crashes: string[] = [];
  let valid = 0;
  for (let i = 0; i < 500; i += 1) {
    const env: NodeJS.ProcessEnv = {};
    for (const name of PARAM_NAMES) {
      const r = rnd();
      if (r < 0.2) continue;
      env[`OCF_RESKEY_${name}`] = r < 0.95 ? SAMPLE[name] : generate(rnd, name);
    }
    const err = thrown(() => {
      const { config, errors } = parseConfig(env);
      if (config) valid += 1;
      if (!config && errors.length === 0) throw new Error('no config and no reason');
      for (const e of errors) {
        if (!(e instanceof ParamError) || !e.message.startsWith(`parameter ${e.param}: `)) throw new Error(`bad error ${String(e)}`);
      }
      const forStop = parseConfigForStop(env);
      if (forStop && forStop.name !== env.OCF_RESKEY_name) throw new Error('stop would look for another container');
    });
    if (err !== undefined) crashes.push(`${JSON.stringify(env)}: ${String(err)}`);
  }
  t.same(crashes, []);
  t.ok(valid > 0, `some generated environments are valid (${valid})`);
});
