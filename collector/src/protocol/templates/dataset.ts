import { DecodeError } from '../errors.js';
import {
  compiledReader,
  GENERIC,
  IPV4,
  MS64,
  type RecordsReader,
  readMs64,
  readUint64,
  UINT8,
  UINT16,
  UINT32,
  UINT64,
} from './compiled-dataset.js';
import { DecodedRecord } from './decoded-record.js';
import type { DataRecord, FieldValue, PacketContext, RecordLayout, Template } from './types.js';
import { VARIABLE_LENGTH } from './types.js';
import { decodeValue } from './values.js';

// How each field of a template is read. The common fixed-length cases are read inline
// (the same values decodeValue returns); the rest go through decodeValue. Worked out
// once per template instead of switching on the abstract type name for every field;
// a template of fixed-length fields gets a generated reader (compiled-dataset.ts).
interface Readers {
  readonly kinds: Uint8Array;
  readonly layout: RecordLayout;
  readonly compiled: RecordsReader | undefined;
}

const readers = new WeakMap<Template, Readers>();

function readersOf(template: Template): Readers {
  let r = readers.get(template);
  if (r === undefined) {
    const kinds = Uint8Array.from(template.fields, (f) => {
      const t = f.info.type;
      if (t === 'unsigned8' || t === 'unsigned16' || t === 'unsigned32' || t === 'unsigned64') {
        const n = f.length;
        return n === 1 ? UINT8 : n === 2 ? UINT16 : n === 4 ? UINT32 : n === 8 ? UINT64 : GENERIC;
      }
      if (t === 'dateTimeMilliseconds' && f.length === 8) return MS64;
      return t === 'ipv4Address' && f.length === 4 ? IPV4 : GENERIC;
    });
    r = {
      kinds,
      layout: {
        infos: template.fields.map((f) => f.info),
        ipv4: kinds.map((k) => (k === IPV4 ? 1 : 0)),
      },
      compiled: compiledReader(template, kinds),
    };
    readers.set(template, r);
  }
  return r;
}

/**
 * The records of one data set of a fixed-length data template, not yet read: what
 * decodeDataSet gives instead of DataRecords when asked to (`sets`), so that a consumer
 * can read the records straight into what it makes of them (the flow producer does,
 * flow/netflow-sets.ts) instead of through a DataRecord each. `read` makes the same
 * DataRecords decodeDataSet would have.
 */
export interface FixedDataSet {
  readonly ctx: PacketContext;
  readonly template: Template;
  readonly layout: RecordLayout;
  /** How each field is read (compiled-dataset.ts: UINT8, IPV4...). */
  readonly kinds: Uint8Array;
  readonly read: RecordsReader;
  readonly body: Uint8Array;
  readonly view: DataView;
  /** Records in the set (trailing bytes shorter than a record are padding). */
  readonly count: number;
  /** Where its records go among the DataRecords: before the one at this index. */
  readonly at: number;
}

/**
 * Decodes the records of one data set (its body, without the 4-byte set header) with
 * its template. Trailing bytes shorter than a record are padding (RFC 7011 3.3.1,
 * RFC 3954 5.3). A variable-length field that runs past the set is an error for that
 * record; the records before it are kept. Given `sets`, a data (not options) set of a
 * template with a generated reader is added there unread (FixedDataSet, its place in
 * `out` noted) instead of as records in `out`.
 */
export function decodeDataSet(
  body: Uint8Array,
  template: Template,
  ctx: PacketContext,
  out: DataRecord[],
  sets?: FixedDataSet[],
): void {
  if (template.minLength === 0) {
    throw new DecodeError('bad_template', `template ${template.id} has no bytes per record`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const r = readersOf(template);
  if (r.compiled !== undefined) {
    if (sets !== undefined && !template.options) {
      const count = Math.floor(body.length / template.minLength);
      if (count > 0) {
        sets.push({
          ctx,
          template,
          layout: r.layout,
          kinds: r.kinds,
          read: r.compiled,
          body,
          view,
          count,
          at: out.length,
        });
      }
      return;
    }
    r.compiled(body, view, ctx, out, template, r.layout);
    return;
  }
  const fields = template.fields;
  const n = fields.length;
  const kinds = r.kinds;
  let pos = 0;
  const end = body.length;
  while (end - pos >= template.minLength) {
    const values: FieldValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const f = fields[i] as (typeof fields)[number];
      let len = f.length;
      if (len === VARIABLE_LENGTH) {
        if (pos + 1 > end) throw truncatedVarlen(template.id, pos);
        len = body[pos] as number;
        pos += 1;
        if (len === 255) {
          if (pos + 2 > end) throw truncatedVarlen(template.id, pos);
          len = view.getUint16(pos);
          pos += 2;
        }
      }
      if (pos + len > end) throw truncatedVarlen(template.id, pos);
      let value: FieldValue;
      switch (kinds[i]) {
        case UINT8:
          value = body[pos] as number;
          break;
        case UINT16:
          value = ((body[pos] as number) << 8) | (body[pos + 1] as number);
          break;
        case UINT32:
          value = view.getUint32(pos);
          break;
        case IPV4: // the address as its number: RecordLayout.ipv4
          value = view.getUint32(pos);
          break;
        case UINT64:
          value = readUint64(view, pos);
          break;
        case MS64:
          value = readMs64(view, pos);
          break;
        default:
          value = decodeValue(body, view, pos, len, f.info);
          break;
      }
      values[i] = value;
      pos += len;
    }
    out.push(new DecodedRecord(ctx, template.id, template.options, r.layout, values));
  }
}

function truncatedVarlen(id: number, pos: number): DecodeError {
  return new DecodeError(
    'truncated',
    `record of template ${id}: a variable-length field runs past the set at ${pos}`,
    pos,
  );
}
