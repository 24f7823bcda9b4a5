import type { SelectableValue } from '@grafana/data';
import { useEffect, useState } from 'react';
import type { DataSource } from '../datasource';

export interface FieldOptions {
  options: Array<SelectableValue<string>>;
  /** why the list could not be loaded; the selects still take typed names */
  error?: string;
}

/**
 * The API's fields as select options (autocomplete for group-by, columns, sort and the
 * values field). `aggregatableOnly` keeps the fields a terms aggregation can group by.
 */
export function useFieldOptions(datasource: DataSource, aggregatableOnly: boolean): FieldOptions {
  const [state, setState] = useState<FieldOptions>({ options: [] });
  useEffect(() => {
    let live = true;
    datasource.fields().then(
      (fields) => {
        if (!live) return;
        const options = fields
          .filter((f) => !aggregatableOnly || f.aggregatable)
          .map((f) => ({ label: f.name, value: f.name, description: f.type }))
          .sort((a, b) => a.label.localeCompare(b.label));
        setState({ options });
      },
      (err: unknown) => {
        if (!live) return;
        const data = (err as { data?: { error?: string } }).data;
        setState({ options: [], error: data?.error ?? String(err) });
      },
    );
    return () => {
      live = false;
    };
  }, [datasource, aggregatableOnly]);
  return state;
}

/** Options for the values already chosen, so a name not in the field list still shows. */
export function withChosen(
  options: Array<SelectableValue<string>>,
  chosen: readonly string[] | undefined,
): Array<SelectableValue<string>> {
  const known = new Set(options.map((o) => o.value));
  const extra = (chosen ?? []).filter((c) => !known.has(c)).map((c) => ({ label: c, value: c }));
  return [...options, ...extra];
}
