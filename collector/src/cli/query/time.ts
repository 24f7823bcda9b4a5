// Times as people type them at a terminal: `now`, `1h` (an hour ago), `now-30m`, ISO 8601
// or epoch milliseconds. Resolved once against one `now`, so --from and --to agree.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A usage error: the CLI exits 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `30s`, `5m`, `1h`, `7d`, `2w`, `250ms` in ms, or undefined when the text is not one. */
export function durationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (m?.[1] === undefined || m[2] === undefined) return undefined;
  const unit = UNIT_MS[m[2]];
  const ms = Number(m[1]) * (unit ?? Number.NaN);
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined;
}

/** A duration option (`--interval`, `--window`), refused with the option's name. */
export function parseDuration(text: string, option: string): number {
  const ms = durationMs(text);
  if (ms === undefined) {
    throw new UsageError(
      `${option}: expected a duration such as 30s, 5m, 1h or 7d (got "${text}")`,
    );
  }
  return ms;
}

/**
 * Epoch ms of a time: `now`, `now-1h`, a bare duration meaning that long ago (`1h`,
 * `30m`, `7d`), an ISO 8601 date or date-time, or epoch milliseconds.
 */
export function parseWhen(text: string, nowMs: number, option: string): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const rel = /^(?:now-)?(.+)$/.exec(t)?.[1];
  const ago = t.startsWith('now-') || /^\d/.test(t) ? durationMs(rel ?? '') : undefined;
  if (ago !== undefined) return nowMs - ago;
  if (/^\d{10,}$/.test(t)) return Number(t);
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    `${option}: expected now, a duration ago (1h, 30m, 7d, now-2h), an ISO 8601 time or epoch ms (got "${text}")`,
  );
}

export interface CliRange {
  fromMs: number;
  toMs: number;
}

/** --from and --to resolved against the same `now`; --to must come after --from. */
export function parseRange(from: string, to: string, nowMs = Date.now()): CliRange {
  const fromMs = parseWhen(from, nowMs, '--from');
  const toMs = parseWhen(to, nowMs, '--to');
  if (toMs <= fromMs) {
    throw new UsageError(
      `--to (${new Date(toMs).toISOString()}) must be after --from (${new Date(fromMs).toISOString()})`,
    );
  }
  return { fromMs, toMs };
}
