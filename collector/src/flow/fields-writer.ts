// The `netflow.*` members of one record layout, written by code generated for that
// layout: each member's constant `,"key":` text stored as inline float64 constants (no
// loop, no lookups), then its value through the same writers the generic loop in
// document-writer.ts calls, numbers first (nearly every element is one; an integer
// below 1e8 gets its room made with its key and its digits written unchecked). Used only for
// layouts without repeated keys, once a layout has proved common.
import type { FlowField } from '../protocol/templates/types.js';
import type { JsonOut, Text } from './json-out.js';

export type FieldsWriter = (o: JsonOut, fields: readonly FlowField[]) => void;
export type ValuesWriter = (o: JsonOut, values: readonly unknown[], ipv4: Uint8Array) => void;

/** The value writers the generated code calls (document-writer.ts's). */
export interface ValueWriters {
  /** A JSON number. */
  readonly number: (o: JsonOut, v: number) => void;
  /** A quoted ISO date, or false (nothing written) for no plausible date. */
  readonly iso: (o: JsonOut, v: number) => boolean;
  /** Any element value, as the generic loop writes it. */
  readonly field: (o: JsonOut, v: unknown, isDate: boolean) => void;
  /** An IPv4 address from its number (FlowField.ipv4), as its quoted text. */
  readonly ipv4: (o: JsonOut, n: number) => void;
  /** The digits of an integer 0 <= n < 1e8, unchecked: room for 8 bytes was made. */
  readonly digits: (o: JsonOut, n: number) => void;
}

/** Stores the key text; `extra` more bytes of room are made with it (for the number). */
function storeText(t: Text, extra = 0): string {
  let code = `p = o.pos; if (p + ${t.length + 8 + extra} > o.limit) o.reserve(${t.length + extra}); view = o.view;\n`;
  for (let i = 0; i < t.chunks.length; i++) {
    code += `view.setFloat64(p + ${i * 8}, ${t.chunks[i]}, true);\n`;
  }
  return `${code}o.pos = p + ${t.length};\n`;
}

/**
 * The generated body: per member its key, then its value from `value(i)` (an expression
 * for field i's value) through the writers; `address(i)`, for IPv4 address elements, is
 * a statement that writes the address from its number when the field has one and
 * otherwise falls through to `else`.
 */
function body(
  keys: readonly Text[],
  isDate: readonly boolean[],
  isIpv4: readonly boolean[],
  value: (i: number) => string,
  address: (i: number) => string,
): string {
  let code = 'let p = 0; let view; let v; let f;\n';
  for (let i = 0; i < keys.length; i++) {
    if (isIpv4[i] || isDate[i]) code += storeText(keys[i] as Text);
    if (isIpv4[i]) {
      code += `${address(i)} else {\n`;
      code += `v = ${value(i)}; if (typeof v === "number") number(o, v); else field(o, v, false); }\n`;
      continue;
    }
    if (isDate[i]) {
      code += `v = ${value(i)};\n`;
      code += 'if (typeof v !== "number") field(o, v, true); else if (!iso(o, v)) number(o, v);\n';
      continue;
    }
    // The commonest value, an integer below 1e8, takes one room check with its key.
    code += `v = ${value(i)};\n${storeText(keys[i] as Text, 8)}`;
    code +=
      'if (typeof v === "number" && v >= 0 && v < 100000000 && (v | 0) === v) digits(o, v);\n';
    code += 'else if (typeof v === "number") number(o, v); else field(o, v, false);\n';
  }
  return code;
}

type Factory<F> = (
  number: ValueWriters['number'],
  iso: ValueWriters['iso'],
  field: ValueWriters['field'],
  ipv4: ValueWriters['ipv4'],
  digits: ValueWriters['digits'],
) => F;

function compile<F>(params: string, code: string, w: ValueWriters): F | undefined {
  let factory: Factory<F>;
  try {
    factory = new Function(
      'number',
      'iso',
      'field',
      'ipv4',
      'digits',
      `return function writeFields(${params}) {\n${code}};`,
    ) as Factory<F>;
  } catch {
    // Code generation disallowed: the generic loop writes every layout.
    return undefined;
  }
  return factory(w.number, w.iso, w.field, w.ipv4, w.digits);
}

/**
 * A writer for a layout whose member keys are `keys` (comma first but for the first),
 * whose date elements are flagged in `isDate` and IPv4 address elements in `isIpv4`
 * (those fields may carry their number, FlowField.ipv4); undefined when a key is not
 * plain ASCII.
 */
export function compileFieldsWriter(
  keys: readonly Text[],
  isDate: readonly boolean[],
  isIpv4: readonly boolean[],
  w: ValueWriters,
): FieldsWriter | undefined {
  if (!keys.every((k) => k.simple)) return undefined;
  const code = body(
    keys,
    isDate,
    isIpv4,
    (i) => `fields[${i}].value`,
    (i) => `f = fields[${i}]; if (f.ipv4 !== undefined) { ipv4(o, f.ipv4); }`,
  );
  return compile<FieldsWriter>('o, fields', code, w);
}

/**
 * The same writer for a decoded record's values (DataRecord.values), whose IPv4
 * addresses are numbers where the layout's `ipv4` flags say so.
 */
export function compileValuesWriter(
  keys: readonly Text[],
  isDate: readonly boolean[],
  isIpv4: readonly boolean[],
  w: ValueWriters,
): ValuesWriter | undefined {
  if (!keys.every((k) => k.simple)) return undefined;
  const code = body(
    keys,
    isDate,
    isIpv4,
    (i) => `values[${i}]`,
    (i) => `if (ipv4s[${i}] === 1) { ipv4(o, values[${i}]); }`,
  );
  return compile<ValuesWriter>('o, values, ipv4s', code, w);
}
