/** Everything an action needs: the typed config (or the reasons it is invalid), Pacemaker's environment, the deadline. */
import { parseConfig } from './config.js';
import type { Config } from '../settings/params.js';
import type { OcfEnvironment } from './environment.js';
import { isProbe } from './environment.js';
import { ACTIONS } from './actions.js';
import { misconfigured } from '../util/errors.js';
import type { ContainerHere } from '../migrate/container.js';
import { actionDeadline, processStartedAt, setCurrentDeadline, type Deadline } from '../util/deadline.js';
import type { ParamError } from '../settings/param-types.js';
import { logger } from '../util/log.js';

export interface ActionContext {
  action: string;
  environment: OcfEnvironment;
  probe: boolean;
  deadline: Deadline;
  configErrors: ParamError[];
  /** The validated config; throws a misconfigured error naming the first bad parameter when invalid. */
  config(): Config;
}

export function prepareContext(action: string, env: NodeJS.ProcessEnv, environment: OcfEnvironment): ActionContext {
  const advisedS = ACTIONS.find((a) => a.name === action)?.timeoutS ?? 20;
  const deadline = actionDeadline(environment.timeoutMs, advisedS * 1000, processStartedAt());
  setCurrentDeadline(deadline);
  const parsed = parseConfig(env);
  // said where admins look, but not on every monitor
  if (!['monitor', 'meta-data'].includes(action)) for (const d of parsed.deprecations) logger.warning(d);
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
      throw misconfigured(`${first?.message ?? 'invalid configuration'}${more}`);
    },
  };
}

/**
 * The engine's view of the container on this node. The node's name is Pacemaker's (CRM_meta_on_node), else what
 * the action implies (`impliedNode`: the migration source in migrate_to, the target in migrate_from), else asked.
 */
export async function openContainer(ctx: ActionContext, config: Config, impliedNode?: string): Promise<ContainerHere> {
  const { containerHere } = await import('../migrate/container.js');
  const known = ctx.environment.onNode ?? impliedNode;
  const asked = async () => (await import('../util/node-name.js')).localNodeName(process.env);
  return containerHere(config, known ? async () => known : asked, ctx.deadline);
}
