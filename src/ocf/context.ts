/** Everything an action needs: the typed config (or the reasons it is invalid), Pacemaker's environment, the deadline. */
import { parseConfig } from './config.js';
import type { Config } from './params.js';
import type { OcfEnvironment } from './environment.js';
import { isProbe } from './environment.js';
import { ACTIONS } from './actions.js';
import { OCF, OcfError } from './exit-codes.js';
import { actionDeadline, setCurrentDeadline, type Deadline } from '../util/deadline.js';
import type { ParamError } from './param-types.js';

export interface ActionContext {
  action: string;
  environment: OcfEnvironment;
  probe: boolean;
  deadline: Deadline;
  configErrors: ParamError[];
  /** The validated config; throws OcfError(ERR_CONFIGURED) naming the first bad parameter when invalid. */
  config(): Config;
}

export function prepareContext(action: string, env: NodeJS.ProcessEnv, environment: OcfEnvironment): ActionContext {
  const advisedS = ACTIONS.find((a) => a.name === action)?.timeoutS ?? 20;
  const deadline = actionDeadline(environment.timeoutMs, advisedS * 1000);
  setCurrentDeadline(deadline);
  const parsed = parseConfig(env);
  return {
    action,
    environment,
    probe: isProbe(action, environment),
    deadline,
    configErrors: parsed.errors,
    config() {
      if (parsed.config) return parsed.config;
      const [first, ...rest] = parsed.errors;
      const more = rest.length ? ` (and ${rest.length} more: ${rest.map((e) => e.param).join(', ')})` : '';
      throw new OcfError(OCF.ERR_CONFIGURED, `${first?.message ?? 'invalid configuration'}${more}`);
    },
  };
}
