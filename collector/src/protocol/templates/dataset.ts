import { DecodeError } from '../errors.js';
import type { DataRecord, FlowField, PacketContext, Template } from './types.js';
import { VARIABLE_LENGTH } from './types.js';
import { decodeValue } from './values.js';

/**
 * Decodes the records of one data set (its body, without the 4-byte set header) with
 * its template. Trailing bytes shorter than a record are padding (RFC 7011 3.3.1,
 * RFC 3954 5.3). A variable-length field that runs past the set is an error for that
 * record; the records before it are kept.
 */
export function decodeDataSet(
  body: Uint8Array,
  template: Template,
  ctx: PacketContext,
  out: DataRecord[],
): void {
  if (template.minLength === 0) {
    throw new DecodeError('bad_template', `template ${template.id} has no bytes per record`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const fields = template.fields;
  const n = fields.length;
  let pos = 0;
  const end = body.length;
  while (end - pos >= template.minLength) {
    const values: FlowField[] = new Array(n);
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
      values[i] = { info: f.info, value: decodeValue(body, view, pos, len, f.info) };
      pos += len;
    }
    out.push({ ctx, templateId: template.id, options: template.options, fields: values });
  }
}

function truncatedVarlen(id: number, pos: number): DecodeError {
  return new DecodeError(
    'truncated',
    `record of template ${id}: a variable-length field runs past the set at ${pos}`,
    pos,
  );
}
