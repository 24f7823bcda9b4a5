import type { AdHocVariableFilter } from '@grafana/data';

/**
 * Ad-hoc filters to nfdump filter text, as Kibana-style `field:value` terms of the
 * collector's filter grammar (collector/src/query/filter/grammar.ts): a value is always
 * double-quoted with `\` and `"` escaped, so any text (spaces, `&&`, parentheses) stays
 * one value and can never become filter syntax.
 */

/** Field names the grammar accepts in a `field:value` term. */
const FIELD_NAME = /^[A-Za-z_@][A-Za-z0-9_@]*(\.[A-Za-z0-9_@]+)*$/;

export function quoteValue(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function fieldName(key: string): string {
  const name = key.trim();
  if (!FIELD_NAME.test(name)) {
    throw new Error(`ad-hoc filter: "${key}" is not a field name`);
  }
  return name;
}

function anyOf(field: string, values: readonly string[]): string {
  const terms = values.map((v) => `${field}:${quoteValue(v)}`);
  return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' or ')})`;
}

/** One ad-hoc filter as a filter term; operators the grammar cannot express throw. */
export function adHocTerm(f: AdHocVariableFilter): string {
  const field = fieldName(f.key);
  const values = f.values && f.values.length > 0 ? f.values : [f.value];
  switch (f.operator) {
    case '=':
      return `${field}:${quoteValue(f.value)}`;
    case '!=':
      return `not ${field}:${quoteValue(f.value)}`;
    case '=|':
      return anyOf(field, values);
    case '!=|':
      return `not ${anyOf(field, values)}`;
    case '<':
    case '>':
    case '<=':
    case '>=':
      return `${field}:${f.operator}${quoteValue(f.value)}`;
    default:
      // Regular expressions (=~, !~) have no counterpart in the filter grammar.
      throw new Error(`ad-hoc filter on ${field}: the operator ${f.operator} is not supported`);
  }
}

/**
 * The query's filter and the ad-hoc filters, all required: the query's own filter is
 * parenthesised so an `or` in it cannot swallow the ad-hoc terms, with the closing
 * parenthesis on a line of its own so a trailing `#` comment cannot hide it.
 */
export function withAdHocFilters(
  filter: string | undefined,
  adhoc: readonly AdHocVariableFilter[] | undefined,
): string {
  const own = (filter ?? '').trim();
  const terms = (adhoc ?? []).filter((f) => f.key !== '').map(adHocTerm);
  if (terms.length === 0) return own;
  return [...(own === '' ? [] : [`(${own}\n)`]), ...terms].join(' and ');
}
