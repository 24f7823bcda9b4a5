import { QueryError, type QueryLimits, type TimeInput } from './types.js';

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** Epoch ms of an ISO 8601 text or an epoch-ms number (or its decimal text). */
export function parseTime(v: TimeInput, name: string): number {
  const ms = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v.trim()) : Date.parse(v);
  if (!Number.isFinite(ms)) {
    throw new QueryError(400, `${name}: not a time (ISO 8601 or epoch milliseconds): ${v}`, {
      field: name,
    });
  }
  return Math.trunc(ms);
}

/** The range of a request, checked: from before to, and no longer than the limit. */
export function timeRange(q: { from: TimeInput; to: TimeInput }, limits: QueryLimits): TimeRange {
  const fromMs = parseTime(q.from, 'from');
  const toMs = parseTime(q.to, 'to');
  if (toMs <= fromMs) throw new QueryError(400, '`to` must be after `from`', { fromMs, toMs });
  if (toMs - fromMs > limits.maxRangeMs) {
    throw new QueryError(
      422,
      `time range of ${formatDuration(toMs - fromMs)} is longer than the limit of ${formatDuration(limits.maxRangeMs)}`,
      { limit: 'maxRangeMs', value: toMs - fromMs, max: limits.maxRangeMs },
    );
  }
  return { fromMs, toMs };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `5m`, `1h`, `1d`, `250ms` or a number of ms. */
export function parseInterval(v: string | number, name = 'interval'): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v > 0) return v;
  } else {
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(v.trim());
    const unit = m?.[2] !== undefined ? UNIT_MS[m[2]] : undefined;
    if (m?.[1] !== undefined && unit !== undefined && Number(m[1]) > 0) return Number(m[1]) * unit;
  }
  throw new QueryError(400, `${name}: expected a duration such as 30s, 5m, 1h or 1d: ${v}`, {
    field: name,
  });
}

/** Round widths, as Grafana picks them, so buckets line up with clock boundaries. */
const NICE_MS = [
  1, 10, 100, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000,
  2_592_000_000, 31_536_000_000,
];

/** The smallest round width that keeps the range within maxDataPoints buckets. */
export function autoInterval(range: TimeRange, maxDataPoints: number, minMs = 1): number {
  const raw = Math.max(Math.ceil((range.toMs - range.fromMs) / Math.max(1, maxDataPoints)), minMs);
  return NICE_MS.find((n) => n >= raw) ?? raw;
}

/** Buckets a fixed-interval histogram over the range has (aligned to the epoch). */
export function bucketCount(range: TimeRange, intervalMs: number): number {
  return Math.floor((range.toMs - 1) / intervalMs) - Math.floor(range.fromMs / intervalMs) + 1;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}
