/**
 * What a node health colour means to Pacemaker, and whether `ferry health` may set it. Pure: the cluster's state
 * comes in as a HealthView (health-cib.ts reads it), the decision goes out as words and a yes or no.
 *
 * Pacemaker sums every `#health*` attribute of a node into one score under node-health-strategy (Pacemaker
 * Explained, "Tracking Node Health"); a node whose score is negative gets no resources. Each source therefore
 * writes its own attribute: one source's green cannot hide another's red.
 */

export type Colour = 'red' | 'yellow' | 'green';
export const COLOURS: readonly Colour[] = ['red', 'yellow', 'green'];
export type HealthStrategy = 'none' | 'migrate-on-red' | 'only-green' | 'progressive' | 'custom';

/** The attribute `ferry health` writes without --source (by hand, and `ferry evacuate --via health`). */
export const MANUAL_ATTRIBUTE = '#health-ferry';
const REASON_PREFIX = 'ferry-health-reason';
/** Pacemaker's INFINITY: scores saturate here. */
export const INFINITY = 1_000_000;

/**
 * The attribute of one health source: `smartd-/dev/sda [SAT]-Health` -> `#health-ferry-smartd-dev-sda-sat-health`.
 * Lower-case letters, digits and dashes only, so the name is also a valid part of the XML id Pacemaker derives.
 */
export function healthAttribute(source: string | undefined): string {
  if (source === undefined) return MANUAL_ATTRIBUTE;
  const slug = source.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80).replace(/-+$/, '');
  if (!slug) throw new Error(`health source "${source}" has no letters or digits`);
  return `${MANUAL_ATTRIBUTE}-${slug}`;
}

/** Where the reason for an attribute's colour is kept; deliberately not `#health*`, which Pacemaker would score. */
export function reasonAttribute(attribute: string): string {
  return attribute === MANUAL_ATTRIBUTE ? REASON_PREFIX : `${REASON_PREFIX}-${attribute.slice(MANUAL_ATTRIBUTE.length + 1)}`;
}

/** Attributes Ferry's sources write (`#health-ferry`, `#health-ferry-*`), as opposed to other health agents'. */
export function isFerryAttribute(name: string): boolean {
  return name === MANUAL_ATTRIBUTE || name.startsWith(`${MANUAL_ATTRIBUTE}-`);
}

export function parseScore(value: string): number | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'infinity' || v === '+infinity') return INFINITY;
  if (v === '-infinity') return -INFINITY;
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  return Math.max(-INFINITY, Math.min(INFINITY, Number(v)));
}

/** Pacemaker's score addition: -INFINITY wins over everything, then +INFINITY. */
function addScores(a: number, b: number): number {
  if (a <= -INFINITY || b <= -INFINITY) return -INFINITY;
  if (a >= INFINITY || b >= INFINITY) return INFINITY;
  return Math.max(-INFINITY, Math.min(INFINITY, a + b));
}

export interface ColourScores { red: number; yellow: number; green: number; base: number }

/** The scores a strategy gives each colour; undefined under `none`, where Pacemaker ignores health attributes. */
export function colourScores(strategy: HealthStrategy, options: Readonly<Record<string, string>>): ColourScores | undefined {
  switch (strategy) {
    case 'none': return undefined;
    case 'migrate-on-red': return { red: -INFINITY, yellow: 0, green: 0, base: 0 };
    case 'only-green': return { red: -INFINITY, yellow: -INFINITY, green: 0, base: 0 };
    case 'progressive':
    case 'custom': {
      // Pacemaker 2.1's defaults (pacemaker-schedulerd metadata)
      const opt = (name: string, fallback: number) => parseScore(options[name] ?? '') ?? fallback;
      return { red: opt('node-health-red', -INFINITY), yellow: opt('node-health-yellow', 0), green: opt('node-health-green', 0),
        base: opt('node-health-base', 0) };
    }
  }
}

export function parseStrategy(value: string | undefined): HealthStrategy {
  const v = (value ?? 'none').trim().toLowerCase();
  if (v === 'none' || v === 'migrate-on-red' || v === 'only-green' || v === 'progressive' || v === 'custom') return v;
  throw new Error(`node-health-strategy "${value}" is none of none, migrate-on-red, only-green, progressive, custom`);
}

/** A node's health score: base plus every `#health*` attribute (colours by the strategy, integers as they are). */
export function nodeScore(attributes: Readonly<Record<string, string>>, scores: ColourScores): number {
  let total = scores.base;
  for (const [name, value] of Object.entries(attributes)) {
    if (!name.startsWith('#health')) continue;
    const v = value.trim().toLowerCase();
    total = addScores(total, v === 'red' || v === 'yellow' || v === 'green' ? scores[v] : parseScore(v) ?? 0);
  }
  return total;
}

export interface NodeHealth {
  name: string;
  /** Online member, not standby, maintenance, unclean or shutting down: Pacemaker may place resources here at all. */
  available: boolean;
  /** Why not available ("offline", "standby"); undefined when available. */
  unavailable: string | undefined;
  /** Permanent node attributes (CIB nodes section, survive a reboot). */
  permanent: Record<string, string>;
  /** Transient node attributes (CIB status section, gone at reboot); they win over a permanent one of the same name. */
  transient: Record<string, string>;
}

export interface HealthView { strategy: HealthStrategy; options: Record<string, string>; nodes: NodeHealth[] }

export function effectiveAttributes(n: NodeHealth): Record<string, string> {
  return { ...n.permanent, ...n.transient };
}

/**
 * "Healthy enough for the containers": the node is available and its health score alone does not ban resources
 * (>= 0; Pacemaker places nothing on a node whose total score is negative). Other constraints and stickiness are
 * not considered; under `custom`, where only the administrator's rules act, progressive's scores are assumed.
 */
export function healthyEnough(n: NodeHealth, attributes: Readonly<Record<string, string>>, scores: ColourScores): boolean {
  return n.available && nodeScore(attributes, scores) >= 0;
}

export interface HealthDecision {
  allowed: boolean;
  /** When refused: why, and what to do. */
  refusal: string | undefined;
  warnings: string[];
  /** What Pacemaker will do with this node afterwards, in words. */
  effect: string;
}

/** What a node with this score gets under the strategy. */
export function describeEffect(strategy: HealthStrategy, score: number | undefined): string {
  if (strategy === 'none' || score === undefined) return 'node-health-strategy=none: Pacemaker ignores node health, nothing moves';
  const rules = strategy === 'custom' ? ' (custom: only your rules act on it)' : '';
  if (score <= -INFINITY) return `score -INFINITY under ${strategy}: every resource leaves this node and none comes back${rules}`;
  if (score < 0) return `score ${score} under ${strategy}: resources avoid this node; those whose stickiness outweighs it stay${rules}`;
  return `score ${score} under ${strategy}: resources may run here${rules}`;
}

/**
 * May these attributes of `node` take these colours? Refused (unless forced) when the node is healthy enough now
 * and afterwards no node in the cluster would be: that would stop every container.
 */
export function decideHealthChange(view: HealthView, node: string, changes: Readonly<Record<string, Colour>>, force: boolean): HealthDecision {
  const target = view.nodes.find((n) => n.name === node);
  if (!target) {
    const known = view.nodes.map((n) => n.name).join(', ') || 'none';
    return { allowed: false, refusal: `${node} is not a node of this cluster (nodes: ${known})`, warnings: [], effect: '' };
  }
  const scores = colourScores(view.strategy, view.options);
  const after = { ...effectiveAttributes(target), ...changes };
  if (!scores) {
    return { allowed: true, refusal: undefined, effect: describeEffect('none', undefined),
      warnings: ['node-health-strategy is none: set it to migrate-on-red for health colours to move containers'] };
  }
  const effect = describeEffect(view.strategy, nodeScore(after, scores));
  const others = view.nodes.filter((n) => n !== target && healthyEnough(n, effectiveAttributes(n), scores)).map((n) => n.name);
  const wasHealthy = healthyEnough(target, effectiveAttributes(target), scores);
  const staysHealthy = healthyEnough(target, after, scores);
  const warnings: string[] = [];
  if (others.length === 0 && wasHealthy && !staysHealthy) {
    const refusal = `${node} is the last node healthy enough for containers (available, health score >= 0 under ${view.strategy}); `
      + 'this would stop every container in the cluster';
    if (!force) return { allowed: false, refusal: `${refusal}. Repair or clear another node first, or repeat with --force`, warnings, effect };
    warnings.push(`--force: ${refusal}`);
  } else if (others.length === 0 && !staysHealthy) {
    warnings.push('no node is healthy enough for containers: they stay stopped until one is');
  }
  return { allowed: true, refusal: undefined, warnings, effect };
}
