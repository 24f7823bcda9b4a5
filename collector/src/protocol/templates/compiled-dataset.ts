// Record readers generated per template layout. A template whose fields all have fixed
// lengths puts every field of every record at a fixed offset, so its records can be read
// by straight-line code: one bounds check per record, each field read by the expression
// for its type and length, the record's values built as one array literal (a
// DecodedRecord; IPv4 addresses stay numbers, decoded-record.ts). The
// values are exactly those of the generic loop in dataset.ts (the same expressions, or
// decodeValue itself for the uncommon types); only the loop, the per-field switch and
// the per-field length checks are gone.
//
// The code depends only on the sequence of (reader kind, length), not on the elements,
// which are passed in: templates are sent again every few seconds (each a new object),
// and all the copies, and every template with the same layout, share one function that
// V8 has long since optimized.
import type { ElementInfo } from '../ipfix/registry/index.js';
import { DecodedRecord } from './decoded-record.js';
import type { DataRecord, FieldValue, PacketContext, RecordLayout, Template } from './types.js';
import { decodeValue } from './values.js';

/** How one field is read: the inline cases of dataset.ts, or decodeValue. */
export type ReaderKind = 0 | 1 | 2 | 3 | 4 | 5 | 6;
export const GENERIC = 0;
export const UINT8 = 1;
export const UINT16 = 2;
export const UINT32 = 3;
export const IPV4 = 4;
/** An 8-byte unsigned integer (readUintBE's value: a number below 2^53, else a bigint). */
export const UINT64 = 5;
/** An 8-byte dateTimeMilliseconds (the same, always as a number). */
export const MS64 = 6;

/** decodeValue's value of an 8-byte unsigned integer, without its type switch. */
export function readUint64(view: DataView, off: number): number | bigint {
  const hi = view.getUint32(off);
  const lo = view.getUint32(off + 4);
  // As readUintBE: hi < 2^21 keeps hi * 2^32 + lo exact.
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** decodeValue's value of an 8-byte dateTimeMilliseconds. */
export function readMs64(view: DataView, off: number): number {
  const v = readUint64(view, off);
  return typeof v === 'bigint' ? Number(v) : v;
}

export type RecordsReader = (
  body: Uint8Array,
  view: DataView,
  ctx: PacketContext,
  out: DataRecord[],
  template: Template,
  layout: RecordLayout,
) => void;

type DecodeValue = (
  buf: Uint8Array,
  view: DataView,
  off: number,
  len: number,
  info: ElementInfo,
) => FieldValue;

/** What fieldExpression's code calls, by the names it uses. */
export const FIELD_HELPERS = ['decodeValue', 'readUint64', 'readMs64'] as const;
export const fieldHelpers = [decodeValue, readUint64, readMs64] as const;

type Factory = (
  decodeValueFn: DecodeValue,
  decodedRecord: typeof DecodedRecord,
  readUint64Fn: typeof readUint64,
  readMs64Fn: typeof readMs64,
) => RecordsReader;

/**
 * The expression of one field's value in generated code, read at `p + offset` of `body`
 * (and `view`, its DataView); uncommon types through `decodeValue` with `infos[index]`.
 */
export function fieldExpression(
  kind: ReaderKind,
  offset: number,
  length: number,
  index: number,
): string {
  const at = `p + ${offset}`;
  switch (kind) {
    case UINT8:
      return `body[${at}]`;
    case UINT16:
      return `(body[${at}] << 8) | body[${at} + 1]`;
    case UINT32:
      return `view.getUint32(${at})`;
    case IPV4: // the address as its number: RecordLayout.ipv4
      return `view.getUint32(${at})`;
    case UINT64:
      return `readUint64(view, ${at})`;
    case MS64:
      return `readMs64(view, ${at})`;
    default:
      return `decodeValue(body, view, ${at}, ${length}, infos[${index}])`;
  }
}

function generate(kinds: readonly ReaderKind[], lengths: readonly number[]): RecordsReader {
  let offset = 0;
  const fields: string[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const expr = fieldExpression(kinds[i] as ReaderKind, offset, lengths[i] as number, i);
    fields.push(expr);
    offset += lengths[i] as number;
  }
  const body = `
    return function readRecords(body, view, ctx, out, template, layout) {
      const end = body.length;
      const id = template.id;
      const options = template.options;
      const infos = layout.infos;
      for (let p = 0; end - p >= ${offset}; p += ${offset}) {
        out.push(new DecodedRecord(ctx, id, options, layout, [
          ${fields.join(',\n          ')}
        ]));
      }
    };`;
  const factory = new Function(
    'decodeValue',
    'DecodedRecord',
    'readUint64',
    'readMs64',
    body,
  ) as Factory;
  return factory(decodeValue, DecodedRecord, readUint64, readMs64);
}

/** Generated readers by layout; bounded, since layouts come from the network. */
const byLayout = new Map<string, RecordsReader>();
const MAX_LAYOUTS = 512;

/**
 * The reader of a fixed-length template's records, given each field's reader kind.
 * Undefined for templates with variable-length fields (the generic loop reads those).
 */
export function compiledReader(template: Template, kinds: Uint8Array): RecordsReader | undefined {
  if (!template.fixed || template.minLength === 0) return undefined;
  const lengths = template.fields.map((f) => f.length);
  let key = '';
  for (let i = 0; i < lengths.length; i++) key += `${kinds[i]}:${lengths[i]},`;
  let reader = byLayout.get(key);
  if (reader === undefined) {
    if (byLayout.size >= MAX_LAYOUTS) byLayout.clear();
    try {
      reader = generate(Array.from(kinds) as ReaderKind[], lengths);
    } catch {
      // Code generation disallowed (node --disallow-code-generation-from-strings): the
      // generic loop reads every template.
      return undefined;
    }
    byLayout.set(key, reader);
  }
  return reader;
}
