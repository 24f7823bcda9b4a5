import { InlineField, InlineSwitch, Input } from '@grafana/ui';
import React from 'react';
import { positiveInt } from '../query';

// The small inline inputs the query editors repeat: each commits on blur (a keystroke
// must not run a query) and stores `undefined` for an empty box, so the stored query
// only carries keys the user set.

interface Common {
  label: string;
  tooltip?: string;
  labelWidth?: number;
}

/** A positive whole number (Top, Size); anything else clears it. */
export function NumberField(
  props: Common & {
    value: number | undefined;
    placeholder: string;
    onCommit: (v: number | undefined) => void;
  },
) {
  return (
    <InlineField label={props.label} labelWidth={props.labelWidth} tooltip={props.tooltip}>
      <Input
        aria-label={props.label}
        type="number"
        min={1}
        width={10}
        defaultValue={props.value ?? ''}
        placeholder={props.placeholder}
        onBlur={(e) => props.onCommit(positiveInt(e.currentTarget.value))}
      />
    </InlineField>
  );
}

/** A short text (Interval, Step, Prefix), trimmed. */
export function TextField(
  props: Common & {
    value: string | undefined;
    placeholder?: string;
    width?: number;
    onCommit: (v: string | undefined) => void;
  },
) {
  return (
    <InlineField label={props.label} labelWidth={props.labelWidth} tooltip={props.tooltip}>
      <Input
        aria-label={props.label}
        width={props.width ?? 12}
        defaultValue={props.value ?? ''}
        placeholder={props.placeholder}
        onBlur={(e) => {
          const v = e.currentTarget.value.trim();
          props.onCommit(v === '' ? undefined : v);
        }}
      />
    </InlineField>
  );
}

/** An on/off option (Per second, Raw counts, Instant). */
export function SwitchField(
  props: Common & { value: boolean | undefined; onCommit: (v: boolean) => void },
) {
  return (
    <InlineField label={props.label} labelWidth={props.labelWidth} tooltip={props.tooltip}>
      <InlineSwitch
        aria-label={props.label}
        value={props.value ?? false}
        onChange={(e) => props.onCommit(e.currentTarget.checked)}
      />
    </InlineField>
  );
}
