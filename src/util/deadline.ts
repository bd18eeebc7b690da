/**
 * The action's own deadline. Pacemaker SIGKILLs the agent's whole process group at CRM_meta_timeout, so every
 * wait and every external command is bounded by a deadline set a safety margin earlier, leaving time to roll
 * back instead of being killed half-way.
 */
export class Deadline {
  constructor(readonly at: number) {}

  static in(ms: number): Deadline {
    return new Deadline(Date.now() + ms);
  }

  static none(): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY);
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  expired(): boolean {
    return Date.now() >= this.at;
  }

  /** The smaller of a command's own limit and what is left (at least 1 ms, so a late command fails fast). */
  bound(limitMs?: number): number | undefined {
    if (!Number.isFinite(this.at)) return limitMs;
    const left = Math.max(1, this.remainingMs());
    return limitMs === undefined ? left : Math.min(limitMs, left);
  }

  /** A deadline `reserveMs` earlier, for work that must leave time for its own rollback. */
  reserve(reserveMs: number): Deadline {
    return new Deadline(this.at - reserveMs);
  }
}

/**
 * Margin kept before Pacemaker's timeout: 10 % of it, at least 2 s and at most 30 s, so that rollback and
 * exit-reason reporting still fit.
 */
export function actionDeadline(timeoutMs: number | undefined, fallbackMs: number, now = Date.now()): Deadline {
  const total = timeoutMs ?? fallbackMs;
  const margin = Math.min(30_000, Math.max(2_000, Math.round(total * 0.1)));
  return new Deadline(now + Math.max(1_000, total - margin));
}

/**
 * When this process started: Pacemaker's timeout runs from the fork, and on a loaded node Node.js's own start-up
 * (tens to hundreds of ms) is already part of it by the time the action's code runs.
 */
export function processStartedAt(): number {
  return Date.now() - Math.round(process.uptime() * 1000);
}

let current = Deadline.none();

export function setCurrentDeadline(d: Deadline): void {
  current = d;
}

export function currentDeadline(): Deadline {
  return current;
}

/** Polls `check` until it returns a value other than undefined, or throws when `ms` (or the deadline) runs out. */
export async function waitUntil<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined,
  intervalMs = 50): Promise<T> {
  const began = Date.now();
  const stopAt = Math.min(began + ms, current.at);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + intervalMs > stopAt) {
      const cut = stopAt < began + ms ? ' (the action\'s deadline came first)' : '';
      throw new Error(`timed out after ${Date.now() - began} ms waiting for ${what}${cut}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
