import type { AdHocVariableFilter } from '@grafana/data';
import { withAdHocFilters } from './filter';
import type { SluiceQuery } from './types';

/** A template variable's value as Grafana hands it to a format function. */
type VariableValue = string | string[] | number | boolean | undefined | null;
export type Formatter = (value: VariableValue) => string;
/** TemplateSrv.replace with the scoped variables already bound. */
export type Replace = (text: string, format?: string | Formatter) => string;

function values(value: VariableValue): string[] {
  if (Array.isArray(value)) return value.map(String);
  return value === undefined || value === null ? [] : [String(value)];
}

/**
 * Variables inside filter text: a multi-value variable becomes a comma list, which is what
 * nfdump's lists take (`src ip in [$hosts]`, `port in [$ports]`).
 */
export const filterFormat: Formatter = (value) => values(value).join(',');

/** Variables inside PromQL: several values become a regular expression alternation. */
export const promqlFormat: Formatter = (value) => {
  const all = values(value);
  if (all.length === 1) return all[0] as string;
  return `(${all.map((v) => v.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')).join('|')})`;
};

/** A list of field names in which one multi-value variable may stand for several fields. */
function fieldList(fields: readonly string[] | undefined, replace: Replace): string[] | undefined {
  if (fields === undefined) return undefined;
  return fields
    .flatMap((f) => replace(f, 'csv').split(','))
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

function text(value: string | undefined, replace: Replace, format?: Formatter): string | undefined {
  return value === undefined ? undefined : replace(value, format);
}

/**
 * The query with template variables replaced and the ad-hoc filters added to its filter.
 * Only text keys change; the query keeps its shape, so the backend reads it the same way
 * whether a panel or an alert rule (which never comes through here) sent it.
 */
export function interpolateQuery(
  query: SluiceQuery,
  replace: Replace,
  adhoc?: readonly AdHocVariableFilter[],
): SluiceQuery {
  const out: SluiceQuery = { ...query };
  const set = <K extends keyof SluiceQuery>(key: K, value: SluiceQuery[K] | undefined) => {
    if (value === undefined) delete out[key];
    else out[key] = value;
  };
  if (query.kind === 'metrics') {
    set('expr', text(query.expr, replace, promqlFormat));
    set('step', text(query.step, replace));
    return out;
  }
  const filter = text(query.filter, replace, filterFormat);
  const combined = withAdHocFilters(filter, adhoc);
  set('filter', combined === '' && filter === undefined ? undefined : combined);
  set('interval', text(query.interval, replace));
  set('groupBy', fieldList(query.groupBy, replace));
  set('fields', fieldList(query.fields, replace));
  set('field', text(query.field, replace)?.trim());
  set('prefix', text(query.prefix, replace));
  if (query.sort !== undefined) {
    set(
      'sort',
      query.sort.map((s) => ({ ...s, field: replace(s.field).trim() })),
    );
  }
  return out;
}
