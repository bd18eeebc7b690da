/** What every driver checks of a node before it runs a container there: its programs, and the bridge it joins. */
import { notInstalled } from '../util/errors.js';
import { which } from '../util/which.js';
import { bridgeExists } from './bridge.js';

/** Throws not-installed naming what is missing; `whose` says whose programs they are ("required", "LXC's tools"). */
export async function requireNodeHas(programs: readonly string[], bridge: string | undefined, o: { whose?: string; bridgeIs?: string } = {}): Promise<void> {
  const missing = programs.filter((p) => !which(p));
  if (missing.length) throw notInstalled(`${o.whose ?? 'required program(s)'} not found on this node: ${missing.join(', ')}`);
  if (bridge && !(await bridgeExists(bridge))) throw notInstalled(`bridge ${bridge}${o.bridgeIs ? ` (${o.bridgeIs})` : ''} does not exist on this node`);
}
