import type { TimeRange } from '@grafana/data';
import { Field, TextArea } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import type { DataSource, FilterCheck } from '../datasource';

interface Props {
  datasource: DataSource;
  value: string;
  range?: TimeRange;
  onChange: (value: string) => void;
  /** called after a change is committed (blur), to run the query */
  onCommit: () => void;
}

/**
 * The nfdump filter box. The filter is checked by the API's own parser when the box loses
 * focus (and once on load), and the API's message, with its column, shows under the box.
 */
export function FilterField({ datasource, value, range, onChange, onCommit }: Props) {
  const [text, setText] = useState(value);
  const [check, setCheck] = useState<FilterCheck>({ ok: true });

  useEffect(() => setText(value), [value]);

  // Checks whenever the stored filter changes (on load and after each commit).
  // biome-ignore lint/correctness/useExhaustiveDependencies: the range only matters for the look-up, not as a trigger
  useEffect(() => {
    let live = true;
    datasource.checkFilter(value, range).then((result) => {
      if (live) setCheck(result);
    });
    return () => {
      live = false;
    };
  }, [datasource, value]);

  const error = check.ok
    ? undefined
    : check.column !== undefined
      ? `column ${check.column}: ${check.message}`
      : check.message;

  return (
    <Field
      label="Filter"
      description="nfdump syntax, e.g. proto tcp and dst port 443, or field:value terms"
      invalid={error !== undefined}
      error={error}
    >
      <TextArea
        aria-label="Filter"
        rows={1}
        value={text}
        placeholder="any"
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={() => {
          if (text !== value) {
            onChange(text);
            onCommit();
          }
        }}
      />
    </Field>
  );
}
