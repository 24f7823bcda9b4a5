/** "64MiB", "10GB", "512k" or a plain number of bytes. */
export function parseBytes(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$/i.exec(v);
  if (!m) return undefined;
  const [, n, unit = '', bin] = m;
  const base = bin ? 1024 : 1000;
  const pow = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit.toLowerCase()] ?? 0;
  return Math.round(Number(n) * base ** pow);
}

/** "500ms", "30s", "5m", "2h", "7d" or a plain number of milliseconds. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(v);
  if (!m) return undefined;
  const mult =
    { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms').toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}
