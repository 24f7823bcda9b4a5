import { type QueryKind, REQUEST_KEYS, type SluiceQuery } from './types';

/** Grafana's own keys of a stored query, kept whatever the kind. */
const GRAFANA_KEYS = ['refId', 'hide', 'key', 'queryType', 'datasource'] as const;

/** What a query of each kind starts with when the editor switches to it. */
const KIND_DEFAULTS: Readonly<Record<QueryKind, Partial<SluiceQuery>>> = {
  timeseries: { metric: 'bytes', rate: true },
  topn: { metric: 'bytes', top: 10 },
  records: { size: 100 },
  values: { size: 100 },
  metrics: {},
};

/**
 * The query switched to another kind: the keys the new kind shares with the old one (the
 * filter, the metric...) are kept, the keys only the old kind had are dropped, so the stored
 * query holds only what the backend forwards for its kind.
 */
export function changeKind(query: SluiceQuery, kind: QueryKind): SluiceQuery {
  const out: Record<string, unknown> = { ...KIND_DEFAULTS[kind] };
  const source = query as unknown as Record<string, unknown>;
  for (const key of [...GRAFANA_KEYS, ...REQUEST_KEYS[kind]]) {
    if (source[key] !== undefined) out[key] = source[key];
  }
  // topn's grouping fields are not records' columns.
  if (query.kind === 'topn' || kind === 'topn') delete out.fields;
  out.kind = kind;
  return out as unknown as SluiceQuery;
}

/** A positive whole number from an input, or undefined for an empty or invalid one. */
export function positiveInt(text: string): number | undefined {
  const n = Number.parseInt(text, 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
