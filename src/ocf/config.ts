/** The resource's parameters as Pacemaker passes them to the agent: `OCF_RESKEY_<name>` environment variables. */
import { parseSettings, parseSettingsForStop, type ConfigResult, type RawSettings } from '../settings/config.js';
import type { Config } from '../settings/params.js';

const PREFIX = 'OCF_RESKEY_';

/** Every `OCF_RESKEY_<name>` but Pacemaker's own `OCF_RESKEY_CRM_meta_*`, by parameter name. */
export function rawSettingsFromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const raw: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(PREFIX) && !key.startsWith(`${PREFIX}CRM_meta_`)) raw[key.slice(PREFIX.length)] = value;
  }
  return raw;
}

export function parseConfig(env: NodeJS.ProcessEnv): ConfigResult {
  return parseSettings(rawSettingsFromEnv(env));
}

export function parseConfigForStop(env: NodeJS.ProcessEnv): Config | undefined {
  return parseSettingsForStop(rawSettingsFromEnv(env));
}
