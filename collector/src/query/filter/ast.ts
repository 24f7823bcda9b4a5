/**
 * The syntax tree of a flow filter (nfdump's filter language plus Kibana-style
 * `field:value` terms), as the grammar builds it. Values stay as the text the user
 * typed, with their offset in the filter, so that validation can point at them.
 */

/** A value as typed: its text and where it starts (0-based offset into the filter). */
export interface Token {
  readonly text: string;
  readonly offset: number;
}

export type Comparison = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';

/** A numeric match: a comparison with one number, or membership in a list. */
export type NumberMatch =
  | { readonly op: Comparison; readonly value: Token }
  | { readonly op: 'in'; readonly values: readonly Token[] };

/** Which end of the flow: source, destination, or either of them. */
export type Direction = 'src' | 'dst' | 'either';

/** Which interface: input, output, or either of them. */
export type InterfaceSide = 'in' | 'out' | 'either';

/** Kibana-style operators of `field:value`, `field:>value`, `field:*`. */
export type FieldOp = 'eq' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { readonly type: 'and'; readonly items: readonly FilterNode[] }
  | { readonly type: 'or'; readonly items: readonly FilterNode[] }
  | { readonly type: 'not'; readonly expr: FilterNode }
  | { readonly type: 'any' }
  | { readonly type: 'inet' }
  | { readonly type: 'inet6' }
  /** `ip A`, `src ip A`, `dst host A`, `ip in [A B/24 ...]`. */
  | { readonly type: 'ip'; readonly dir: Direction; readonly values: readonly Token[] }
  /** `net 10.0.0.0/8`, `src net 10.0.0.0 255.0.0.0`. */
  | { readonly type: 'net'; readonly dir: Direction; readonly value: Token; readonly mask?: Token }
  | { readonly type: 'port'; readonly dir: Direction; readonly match: NumberMatch }
  | { readonly type: 'as'; readonly dir: Direction; readonly match: NumberMatch }
  | { readonly type: 'proto'; readonly value: Token }
  | { readonly type: 'if'; readonly side: InterfaceSide; readonly value: Token }
  | { readonly type: 'vlan'; readonly value: Token }
  | { readonly type: 'flags'; readonly value: Token }
  /** `bytes > 1M` (both directions), `in bytes` (source to destination), `out bytes` (reverse). */
  | {
      readonly type: 'bytes' | 'packets';
      readonly side: 'in' | 'out' | 'total';
      readonly op: Comparison;
      readonly value: Token;
    }
  /** `duration > 1000`, in milliseconds. */
  | { readonly type: 'duration'; readonly op: Comparison; readonly value: Token }
  | { readonly type: 'exporter'; readonly value: Token }
  /** `field:value`, `field:"quoted value"`, `field:>100`, `field:*` (exists). */
  | { readonly type: 'field'; readonly field: Token; readonly op: FieldOp; readonly value: Token }
  | { readonly type: 'exists'; readonly field: Token };
