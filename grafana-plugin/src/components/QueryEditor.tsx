import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import {
  InlineField,
  InlineFieldRow,
  MultiSelect,
  RadioButtonGroup,
  Select,
  TextArea,
} from '@grafana/ui';
import React from 'react';
import type { DataSource } from '../datasource';
import { changeKind } from '../query';
import {
  METRICS,
  type Metric,
  QUERY_KINDS,
  type QueryKind,
  type SluiceOptions,
  type SluiceQuery,
} from '../types';
import { FilterField } from './FilterField';
import { NumberField, SwitchField, TextField } from './fields';
import { useFieldOptions, withChosen } from './useFieldOptions';

type Props = QueryEditorProps<DataSource, SluiceQuery, SluiceOptions>;

const KIND_LABELS: Record<QueryKind, string> = {
  timeseries: 'Time series',
  topn: 'Top N',
  records: 'Records',
  values: 'Values',
  metrics: 'Metrics',
};
const KIND_OPTIONS = QUERY_KINDS.map((k) => ({ label: KIND_LABELS[k], value: k }));
const METRIC_OPTIONS = METRICS.map((m) => ({ label: m, value: m }));
const ORDER_OPTIONS = [
  { label: 'desc', value: 'desc' as const },
  { label: 'asc', value: 'asc' as const },
];
const LABEL_WIDTH = 14;

function values(selected: Array<SelectableValue<string>>): string[] {
  return selected.map((s) => s.value).filter((v): v is string => typeof v === 'string' && v !== '');
}

export function QueryEditor({ datasource, query, onChange, onRunQuery, range }: Props) {
  const kind: QueryKind = query.kind ?? 'timeseries';
  const fieldOptions = useFieldOptions(datasource, kind !== 'records');

  const update = (patch: Partial<SluiceQuery>, run = true) => {
    // A blur without an edit changes nothing and runs nothing.
    const current = query as unknown as Record<string, unknown>;
    if (Object.entries(patch).every(([k, v]) => JSON.stringify(current[k]) === JSON.stringify(v))) {
      return;
    }
    const next: SluiceQuery = { ...query, ...patch };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete (next as unknown as Record<string, unknown>)[k];
    }
    onChange(next);
    if (run) onRunQuery();
  };

  const fieldSelect = (
    label: string,
    chosen: string[] | undefined,
    max: number,
    set: (v: string[] | undefined) => void,
    tooltip: string,
  ) => (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip} grow>
      <MultiSelect
        aria-label={label}
        options={withChosen(fieldOptions.options, chosen)}
        value={chosen ?? []}
        allowCustomValue
        isClearable
        placeholder={fieldOptions.error ? 'type a field name' : 'choose fields'}
        onChange={(selected) => {
          const list = values(selected).slice(0, max);
          set(list.length > 0 ? list : undefined);
        }}
      />
    </InlineField>
  );

  const topInput = (
    <NumberField
      label="Top"
      labelWidth={8}
      tooltip="how many groups (default 10)"
      value={query.top}
      placeholder="10"
      onCommit={(top) => update({ top })}
    />
  );

  const measure = (
    <InlineFieldRow>
      <InlineField label="Metric" labelWidth={LABEL_WIDTH}>
        <RadioButtonGroup<Metric>
          options={METRIC_OPTIONS}
          value={query.metric ?? 'bytes'}
          onChange={(metric) => update({ metric })}
        />
      </InlineField>
      <SwitchField
        label="Per second"
        tooltip="a rate instead of a sum per bucket or range"
        value={query.rate}
        onCommit={(rate) => update({ rate })}
      />
      <SwitchField
        label="Raw counts"
        tooltip="counts as exported, not scaled by the sampling rate"
        value={query.raw}
        onCommit={(raw) => update({ raw })}
      />
    </InlineFieldRow>
  );

  const sort = query.sort?.[0];

  return (
    <div>
      <InlineFieldRow>
        <InlineField label="Query" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<QueryKind>
            options={KIND_OPTIONS}
            value={kind}
            onChange={(k) => {
              onChange(changeKind(query, k));
              onRunQuery();
            }}
          />
        </InlineField>
      </InlineFieldRow>

      {kind !== 'metrics' && (
        <FilterField
          datasource={datasource}
          value={query.filter ?? ''}
          {...(range ? { range } : {})}
          onChange={(filter) =>
            update({ filter: filter.trim() === '' ? undefined : filter }, false)
          }
          onCommit={onRunQuery}
        />
      )}

      {kind === 'timeseries' && (
        <>
          {measure}
          <InlineFieldRow>
            {fieldSelect(
              'Group by',
              query.groupBy,
              3,
              (groupBy) => update({ groupBy }),
              'up to 3 fields: one series per group',
            )}
            {topInput}
            <TextField
              label="Interval"
              labelWidth={10}
              tooltip="bucket width: 30s, 5m, 1h; empty for automatic"
              value={query.interval}
              placeholder="auto"
              onCommit={(interval) => update({ interval })}
            />
          </InlineFieldRow>
        </>
      )}

      {kind === 'topn' && (
        <>
          {measure}
          <InlineFieldRow>
            {fieldSelect(
              'Fields',
              query.fields,
              3,
              (fields) => update({ fields }),
              'the fields to rank: 1 to 3',
            )}
            {topInput}
          </InlineFieldRow>
        </>
      )}

      {kind === 'records' && (
        <>
          <InlineFieldRow>
            {fieldSelect(
              'Columns',
              query.fields,
              200,
              (fields) => update({ fields }),
              'the fields to show; empty for the default columns',
            )}
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField label="Sort by" labelWidth={LABEL_WIDTH}>
              <Select
                aria-label="Sort by"
                width={30}
                options={withChosen(fieldOptions.options, sort ? [sort.field] : [])}
                value={sort?.field ?? null}
                allowCustomValue
                isClearable
                placeholder="@timestamp"
                onChange={(v) =>
                  update({
                    sort: v?.value ? [{ field: v.value, order: sort?.order ?? 'desc' }] : undefined,
                  })
                }
              />
            </InlineField>
            <InlineField label="Order">
              <RadioButtonGroup<'asc' | 'desc'>
                options={ORDER_OPTIONS}
                value={sort?.order ?? 'desc'}
                disabled={!sort}
                onChange={(order) => sort && update({ sort: [{ field: sort.field, order }] })}
              />
            </InlineField>
            <NumberField
              label="Size"
              tooltip="records per page (default 100)"
              value={query.size}
              placeholder="100"
              onCommit={(size) => update({ size })}
            />
          </InlineFieldRow>
        </>
      )}

      {kind === 'values' && (
        <InlineFieldRow>
          <InlineField label="Field" labelWidth={LABEL_WIDTH}>
            <Select
              aria-label="Field"
              width={30}
              options={withChosen(fieldOptions.options, query.field ? [query.field] : [])}
              value={query.field ?? null}
              allowCustomValue
              onChange={(v) => update({ field: v?.value })}
            />
          </InlineField>
          <TextField
            label="Prefix"
            width={16}
            value={query.prefix}
            onCommit={(prefix) => update({ prefix })}
          />
          <NumberField
            label="Size"
            value={query.size}
            placeholder="100"
            onCommit={(size) => update({ size })}
          />
        </InlineFieldRow>
      )}

      {kind === 'metrics' && (
        <>
          <InlineFieldRow>
            <InlineField label="PromQL" labelWidth={LABEL_WIDTH} grow>
              <TextArea
                aria-label="PromQL"
                rows={2}
                defaultValue={query.expr ?? ''}
                placeholder="rate(sluice_datagrams_total[5m])"
                onBlur={(e) => {
                  const v = e.currentTarget.value.trim();
                  update({ expr: v === '' ? undefined : v });
                }}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <SwitchField
              label="Instant"
              labelWidth={LABEL_WIDTH}
              tooltip="evaluate once, at the end of the range"
              value={query.instant}
              onCommit={(instant) => update({ instant })}
            />
            <TextField
              label="Step"
              tooltip="30s, 5m; empty for automatic"
              value={query.step}
              placeholder="auto"
              onCommit={(step) => update({ step })}
            />
          </InlineFieldRow>
        </>
      )}
    </div>
  );
}
