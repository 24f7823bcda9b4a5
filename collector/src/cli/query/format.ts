// Frames (the query API's columnar answers) for a terminal: aligned tables with human
// units, CSV with the raw numbers, or the frames as JSON.
import type { FieldValue, Frame, FrameField, Metric } from '../../query/es/types.js';

export type OutputFormat = 'table' | 'json' | 'csv';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'csv'];

/** `1,234,567`; fractions keep one decimal (`12.5`). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const rounded = Number.isInteger(n) ? n : Math.round(n * 10) / 10;
  const [int = '0', frac] = Math.abs(rounded).toString().split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${rounded < 0 ? '-' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}

/** Three significant digits with a decimal (SI) prefix: `512`, `1.23 K`, `45.6 M`. */
function scaled(n: number, units: readonly string[]): string {
  let v = Math.abs(n);
  let i = 0;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  const digits = i === 0 ? (Number.isInteger(v) ? 0 : 1) : v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
  return `${n < 0 ? '-' : ''}${v.toFixed(digits)} ${units[i] ?? ''}`;
}

/** Bytes with decimal prefixes (as Grafana's `decbytes`): `980 B`, `1.50 KB`, `12.3 GB`. */
export function formatBytes(n: number): string {
  return scaled(n, ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB']);
}

/** A bit rate: `800 bit/s`, `1.20 Kbit/s`, `3.40 Gbit/s`. */
export function formatBits(bitsPerSecond: number): string {
  return scaled(bitsPerSecond, ['bit/s', 'Kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s', 'Pbit/s']);
}

/** A per-second count: `12.5 pkt/s`. */
export function formatRate(perSecond: number, what: string): string {
  return `${formatCount(perSecond)} ${what}/s`;
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** UTC, to the second: `2024-05-01 10:00:00` (milliseconds when there are some). */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso
    .replace('T', ' ')
    .replace(/\.000Z$/, '')
    .replace(/Z$/, '');
}

/** A metric's rate over a range, as the table shows it: bits/s, pkt/s or flows/s. */
export function formatMetricRate(metric: Metric, total: number, rangeMs: number): string {
  const perSecond = rangeMs > 0 ? total / (rangeMs / 1000) : 0;
  if (metric === 'bytes') return formatBits(perSecond * 8);
  return formatRate(perSecond, metric === 'packets' ? 'pkt' : 'flows');
}

/** A column's header: its name, and its labels when it is one series of several. */
export function columnName(f: FrameField): string {
  const labels = Object.entries(f.labels ?? {});
  if (labels.length === 0) return f.name;
  return `${f.name}{${labels.map(([k, v]) => `${k}=${v}`).join(',')}}`;
}

/** Fields counted in units of things (thousands separators); others print as they are. */
const COUNT_FIELD = /(^|\.)(packets|count|flows|records|hits)$/;
const BYTES_FIELD = /(^|\.)bytes$/;

/** One value for a table cell, in human units chosen by the unit (or the field's name). */
export function humanCell(f: FrameField, v: FieldValue): string {
  if (v === null) return '-';
  if (typeof v !== 'number') return String(v);
  if (f.type === 'time') return formatTime(v);
  switch (f.unit) {
    case 'decbytes':
    case 'bytes':
      return formatBytes(v);
    case 'Bps':
      return formatBits(v * 8);
    case 'pps':
      return formatRate(v, 'pkt');
    case 'cps':
      return formatRate(v, 'flows');
    case 'percentunit':
      return formatPercent(v);
    case 'short':
      return formatCount(v);
    default:
      if (BYTES_FIELD.test(f.name)) return formatBytes(v);
      if (COUNT_FIELD.test(f.name)) return formatCount(v);
      return String(v);
  }
}

export interface TableColumn {
  header: string;
  cells: string[];
  align: 'left' | 'right';
}

/** Columns padded to their widest cell, two spaces apart; numbers aligned right. */
export function renderTable(columns: readonly TableColumn[]): string {
  const widths = columns.map((c) => Math.max(c.header.length, ...c.cells.map((x) => x.length)));
  const rows = Math.max(0, ...columns.map((c) => c.cells.length));
  const line = (cell: (c: TableColumn) => string) =>
    columns
      .map((c, i) => {
        const text = cell(c);
        const w = widths[i] ?? 0;
        return c.align === 'right' ? text.padStart(w) : text.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  const out = [line((c) => c.header)];
  for (let r = 0; r < rows; r++) out.push(line((c) => c.cells[r] ?? ''));
  return `${out.join('\n')}\n`;
}

function fieldColumn(f: FrameField): TableColumn {
  return {
    header: columnName(f),
    cells: f.values.map((v) => humanCell(f, v)),
    align: f.type === 'number' ? 'right' : 'left',
  };
}

/** Any frame as a table, every column in human units. */
export function frameTable(frame: Frame): string {
  if (frame.fields.length === 0 || (frame.fields[0]?.values.length ?? 0) === 0) {
    return '(no data)\n';
  }
  return renderTable(frame.fields.map(fieldColumn));
}

/**
 * A topn frame as a ranking: #, the key fields, the metric's total, its average rate
 * over the range (bits/s for bytes) and the share of the range's total.
 */
export function topnTable(frame: Frame, metric: Metric, rangeMs: number): string {
  const metricField = frame.fields.find((f) => f.name === metric);
  const values = (metricField?.values ?? []).map((v) => (typeof v === 'number' ? v : 0));
  if (values.length === 0) return '(no data)\n';
  const keys = frame.fields.filter((f) => f.name !== metric && f.name !== 'share');
  const share = frame.fields.find((f) => f.name === 'share');
  const columns: TableColumn[] = [
    { header: '#', cells: values.map((_, i) => String(i + 1)), align: 'right' },
    ...keys.map((f) => ({ ...fieldColumn(f), align: 'left' as const })),
  ];
  if (metricField !== undefined) columns.push(fieldColumn(metricField));
  columns.push({
    header: 'rate',
    cells: values.map((v) => formatMetricRate(metric, v, rangeMs)),
    align: 'right',
  });
  if (share !== undefined) columns.push(fieldColumn(share));
  const total = frame.meta?.total;
  const footer =
    total !== undefined
      ? `total ${humanCell(metricField ?? { name: metric, type: 'number', values: [] }, total)} (${formatMetricRate(metric, total, rangeMs)})\n`
      : '';
  return renderTable(columns) + footer;
}

function csvCell(f: FrameField, v: FieldValue): string {
  if (v === null) return '';
  const text = f.type === 'time' && typeof v === 'number' ? new Date(v).toISOString() : String(v);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header of the column names, then one line per row; raw numbers, times in ISO 8601. */
export function frameCsv(frame: Frame): string {
  const rows = frame.fields[0]?.values.length ?? 0;
  const lines = [
    frame.fields.map((f) => csvCell({ ...f, type: 'string' }, columnName(f))).join(','),
  ];
  for (let r = 0; r < rows; r++) {
    lines.push(frame.fields.map((f) => csvCell(f, f.values[r] ?? null)).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The frames as the API answers them. */
export function framesJson(frames: readonly Frame[]): string {
  return `${JSON.stringify({ frames }, null, 2)}\n`;
}
