import {
  type ExportFlow,
  type FlowFieldSpec,
  recordLength,
  type SamplingInfo,
  writeRecord,
  writeUint,
} from './encode-flow.js';

/**
 * Template-based export messages (NetFlow v9, RFC 3954; IPFIX, RFC 7011) share one shape:
 * a header, template sets, an options template announcing the sampling interval, data
 * sets. Only the set ids, the options template layout, the header and the padding rule
 * differ; this module writes the sets, the format modules write their headers.
 */

/** A data template for the flows of one IP version. */
export interface FlowTemplate {
  readonly id: number;
  readonly ipVersion: 4 | 6;
  readonly fields: readonly FlowFieldSpec[];
}

/** An options template: scope fields, then option fields, with fixed lengths. */
export interface OptionsTemplate {
  readonly id: number;
  readonly scope: readonly { readonly id: number; readonly length: number }[];
  readonly options: readonly { readonly id: number; readonly length: number }[];
}

/** What goes in one message; the caller decides what fits (see `messageSize`). */
export interface TemplateMessage {
  /** Data templates announced in this message. */
  readonly templates: readonly FlowTemplate[];
  /** Announce the sampling options template. */
  readonly optionsTemplate: boolean;
  /** An options data record with the sampling interval (needs the options template known). */
  readonly sampling: SamplingInfo | undefined;
  readonly flows: readonly ExportFlow[];
}

export interface SetLayout {
  readonly headerLength: number;
  readonly templateSetId: number;
  readonly optionsTemplateSetId: number;
  /** Pad every set to a multiple of 4 bytes (v9 SHOULD; IPFIX needs none). */
  readonly pad4: boolean;
  /** An options template record: its length and how to write it (layouts differ). */
  readonly writeOptionsTemplate: (view: DataView, off: number, t: OptionsTemplate) => number;
  readonly optionsTemplateLength: (t: OptionsTemplate) => number;
  /** The templates data records use, by IP version. */
  readonly flowTemplates: { readonly 4: FlowTemplate; readonly 6: FlowTemplate };
  readonly samplingTemplate: OptionsTemplate;
}

const pad = (n: number, pad4: boolean): number => (pad4 ? (n + 3) & ~3 : n);

function templateRecordLength(t: FlowTemplate): number {
  return 4 + 4 * t.fields.length;
}

function optionsRecordLength(t: OptionsTemplate): number {
  let n = 0;
  for (const f of t.scope) n += f.length;
  for (const f of t.options) n += f.length;
  return n;
}

/** Flows of `m` split by IP version, keeping their order within each version. */
function byVersion(flows: readonly ExportFlow[]): [ExportFlow[], ExportFlow[]] {
  const v4: ExportFlow[] = [];
  const v6: ExportFlow[] = [];
  for (const f of flows) (f.ipVersion === 4 ? v4 : v6).push(f);
  return [v4, v6];
}

/** Bytes a message takes, header included. */
export function messageSize(layout: SetLayout, m: TemplateMessage): number {
  let n = layout.headerLength;
  if (m.templates.length > 0) {
    let body = 4;
    for (const t of m.templates) body += templateRecordLength(t);
    n += pad(body, layout.pad4);
  }
  if (m.optionsTemplate)
    n += pad(4 + layout.optionsTemplateLength(layout.samplingTemplate), layout.pad4);
  if (m.sampling) n += pad(4 + optionsRecordLength(layout.samplingTemplate), layout.pad4);
  const [v4, v6] = byVersion(m.flows);
  if (v4.length > 0)
    n += pad(4 + v4.length * recordLength(layout.flowTemplates[4].fields), layout.pad4);
  if (v6.length > 0)
    n += pad(4 + v6.length * recordLength(layout.flowTemplates[6].fields), layout.pad4);
  return n;
}

/** Records (of any kind) in a message, as a v9 header counts them. */
export function recordCount(m: TemplateMessage): number {
  return m.templates.length + (m.optionsTemplate ? 1 : 0) + (m.sampling ? 1 : 0) + m.flows.length;
}

/**
 * Writes the sets of `m` after a header of `layout.headerLength` bytes left blank for the
 * caller. `scopeValue` fills the sampling record's scope field.
 */
export function writeMessage(
  layout: SetLayout,
  m: TemplateMessage,
  bootMs: number,
  scopeValue: number,
): { out: Uint8Array; view: DataView } {
  const out = new Uint8Array(messageSize(layout, m));
  const view = new DataView(out.buffer);
  let off = layout.headerLength;
  const closeSet = (start: number, end: number): number => {
    const padded = pad(end - start, layout.pad4);
    view.setUint16(start + 2, padded);
    return start + padded;
  };
  if (m.templates.length > 0) {
    const start = off;
    view.setUint16(off, layout.templateSetId);
    off += 4;
    for (const t of m.templates) {
      view.setUint16(off, t.id);
      view.setUint16(off + 2, t.fields.length);
      off += 4;
      for (const f of t.fields) {
        view.setUint16(off, f.id);
        view.setUint16(off + 2, f.length);
        off += 4;
      }
    }
    off = closeSet(start, off);
  }
  const st = layout.samplingTemplate;
  if (m.optionsTemplate) {
    const start = off;
    view.setUint16(off, layout.optionsTemplateSetId);
    off = layout.writeOptionsTemplate(view, off + 4, st);
    off = closeSet(start, off);
  }
  if (m.sampling) {
    const start = off;
    view.setUint16(off, st.id);
    off += 4;
    for (const f of st.scope) {
      writeUint(view, off, f.length, scopeValue);
      off += f.length;
    }
    const values = [m.sampling.interval, m.sampling.algorithm];
    st.options.forEach((f, i) => {
      writeUint(view, off, f.length, values[i] ?? 0);
      off += f.length;
    });
    off = closeSet(start, off);
  }
  const [v4, v6] = byVersion(m.flows);
  for (const [flows, t] of [
    [v4, layout.flowTemplates[4]],
    [v6, layout.flowTemplates[6]],
  ] as const) {
    if (flows.length === 0) continue;
    const start = off;
    view.setUint16(off, t.id);
    off += 4;
    for (const f of flows) off = writeRecord(out, view, off, t.fields, f, bootMs);
    off = closeSet(start, off);
  }
  return { out, view };
}
