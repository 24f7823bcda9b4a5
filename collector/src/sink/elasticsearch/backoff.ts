/** Exponential backoff with full jitter: a random wait in [0, min(cap, initial * 2^n)). */
export interface BackoffOptions {
  /** First ceiling (default 100 ms). */
  initialMs?: number;
  /** Largest ceiling (default 30 s). */
  maxMs?: number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 30_000;

/**
 * Delay before retry number `attempt` (1 = first retry). Full jitter spreads the
 * retries of many writers over the whole window instead of synchronising them.
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = opts.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
  const cap = opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  // 2^n overflows to Infinity for large n; min() keeps the cap.
  const ceiling = Math.min(cap, initial * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
