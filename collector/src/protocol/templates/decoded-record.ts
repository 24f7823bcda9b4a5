import { Ipv4Field } from './ipv4-field.js';
import type { DataRecord, FieldValue, FlowField, PacketContext, RecordLayout } from './types.js';

// A decoded data record as one values array beside its template's shared layout,
// instead of one {info, value} object per field: a flow record has about twenty fields,
// and those objects were most of what decoding allocated. The producer and the document
// writer read `values`; `fields`, the element-and-value view everything else reads, is
// made the first time someone asks.

/** The fields of a layout's values: IPv4 numbers become Ipv4Field (text made on read). */
export function fieldsOf(layout: RecordLayout, values: readonly FieldValue[]): FlowField[] {
  const infos = layout.infos;
  const ipv4 = layout.ipv4;
  const out: FlowField[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const info = infos[i] as FlowField['info'];
    const v = values[i] as FieldValue;
    out[i] = ipv4[i] === 1 ? new Ipv4Field(info, v as number) : { info, value: v };
  }
  return out;
}

export class DecodedRecord implements DataRecord {
  private built: readonly FlowField[] | undefined = undefined;

  constructor(
    readonly ctx: PacketContext,
    readonly templateId: number,
    readonly options: boolean,
    readonly layout: RecordLayout,
    readonly values: readonly FieldValue[],
  ) {}

  get fields(): readonly FlowField[] {
    if (this.built === undefined) this.built = fieldsOf(this.layout, this.values);
    return this.built;
  }
}
