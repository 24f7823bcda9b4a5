import type { QueryEditorProps } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';
import React from 'react';
import type { DataSource } from '../datasource';
import type { SluiceOptions, SluiceQuery } from '../types';
import { NumberField, TextField } from './fields';
import { useFieldOptions, withChosen } from './useFieldOptions';

type Props = QueryEditorProps<DataSource, SluiceQuery, SluiceOptions, SluiceQuery>;

/** A template variable's query: the values of one field, as a `values` query. */
export function VariableQueryEditor({ datasource, query, onChange }: Props) {
  const { options } = useFieldOptions(datasource, true);
  const update = (patch: Partial<SluiceQuery>) => {
    const next: SluiceQuery = { ...query, ...patch, kind: 'values' };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '') delete (next as unknown as Record<string, unknown>)[k];
    }
    onChange(next);
  };
  return (
    <>
      <InlineFieldRow>
        <InlineField
          label="Field"
          labelWidth={14}
          tooltip="the variable's values are this field's values"
        >
          <Select
            aria-label="Field"
            width={30}
            options={withChosen(options, query.field ? [query.field] : [])}
            value={query.field ?? null}
            allowCustomValue
            onChange={(v) => update({ field: v?.value })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label="Filter"
          labelWidth={14}
          tooltip="nfdump filter narrowing the flows looked at"
          grow
        >
          <Input
            aria-label="Filter"
            defaultValue={query.filter ?? ''}
            placeholder="any"
            onBlur={(e) => update({ filter: e.currentTarget.value.trim() })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <TextField
          label="Prefix"
          labelWidth={14}
          width={16}
          value={query.prefix}
          onCommit={(prefix) => update({ prefix })}
        />
        <NumberField
          label="Size"
          tooltip="how many values (default 100)"
          value={query.size}
          placeholder="100"
          onCommit={(size) => update({ size })}
        />
      </InlineFieldRow>
    </>
  );
}
