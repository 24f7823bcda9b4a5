import { type ExportFlow, FIELD } from './encode-flow.js';
import {
  type FlowTemplate,
  messageSize,
  type OptionsTemplate,
  recordCount,
  type SetLayout,
  type TemplateMessage,
  writeMessage,
} from './encode-sets.js';

/**
 * NetFlow v9 export packets (RFC 3954): a 20-byte header, template flowsets (id 0), an
 * options template flowset (id 1) and data flowsets, each padded to 4 bytes. Flow times
 * are FIRST_SWITCHED / LAST_SWITCHED in exporter uptime ms; the boot time is the
 * header's export time (whole seconds) minus its uptime. ICMP type * 256 + code goes in
 * ICMP_TYPE (32) for ICMP and ICMPv6 alike, as RFC 3954 defines it (nfdump reads it so).
 */

export const V9_HEADER_LENGTH = 20;
export const V9_TEMPLATE_IPV4 = 256;
export const V9_TEMPLATE_IPV6 = 257;
export const V9_TEMPLATE_SAMPLING = 258;
/** RFC 3954 6.1 scope field type System. */
const SCOPE_SYSTEM = 1;

const common = [
  FIELD.srcPort,
  FIELD.dstPort,
  FIELD.protocol,
  FIELD.tos,
  FIELD.tcpFlags1,
  FIELD.inIf,
  FIELD.outIf,
  FIELD.packets,
  FIELD.bytes,
  FIELD.firstUp,
  FIELD.lastUp,
  FIELD.vlanId,
  FIELD.dot1qCustomerVlanId,
];

export const V9_FLOW_TEMPLATES: { readonly 4: FlowTemplate; readonly 6: FlowTemplate } = {
  4: {
    id: V9_TEMPLATE_IPV4,
    ipVersion: 4,
    fields: [FIELD.src4, FIELD.dst4, ...common, FIELD.icmpAny, FIELD.ipVersion],
  },
  6: {
    id: V9_TEMPLATE_IPV6,
    ipVersion: 6,
    fields: [FIELD.src6, FIELD.dst6, ...common, FIELD.icmpAny, FIELD.ipVersion],
  },
};

/** Scope System (the source id), SAMPLING_INTERVAL (34), SAMPLING_ALGORITHM (35). */
export const V9_SAMPLING_TEMPLATE: OptionsTemplate = {
  id: V9_TEMPLATE_SAMPLING,
  scope: [{ id: SCOPE_SYSTEM, length: 4 }],
  options: [
    { id: 34, length: 4 },
    { id: 35, length: 1 },
  ],
};

export const V9_LAYOUT: SetLayout = {
  headerLength: V9_HEADER_LENGTH,
  templateSetId: 0,
  optionsTemplateSetId: 1,
  pad4: true,
  optionsTemplateLength: (t) => 6 + 4 * (t.scope.length + t.options.length),
  writeOptionsTemplate: (view, off, t) => {
    view.setUint16(off, t.id);
    view.setUint16(off + 2, 4 * t.scope.length);
    view.setUint16(off + 4, 4 * t.options.length);
    let o = off + 6;
    for (const f of [...t.scope, ...t.options]) {
      view.setUint16(o, f.id);
      view.setUint16(o + 2, f.length);
      o += 4;
    }
    return o;
  },
  flowTemplates: V9_FLOW_TEMPLATES,
  samplingTemplate: V9_SAMPLING_TEMPLATE,
};

export interface NetflowV9Header {
  /** Exporter uptime at export, ms. */
  readonly sysUptimeMs: number;
  /** Export time, seconds since the Unix epoch. */
  readonly unixSecs: number;
  /** Export packets sent before this one (mod 2^32). */
  readonly sequence: number;
  readonly sourceId: number;
}

/** Bytes a v9 packet with this content takes. */
export function netflowV9Size(m: TemplateMessage): number {
  return messageSize(V9_LAYOUT, m);
}

/** Encodes one v9 export packet. The header count covers every record, templates included. */
export function encodeNetflowV9(header: NetflowV9Header, m: TemplateMessage): Uint8Array {
  const bootMs = header.unixSecs * 1000 - header.sysUptimeMs;
  const { out, view } = writeMessage(V9_LAYOUT, m, bootMs, header.sourceId);
  view.setUint16(0, 9);
  view.setUint16(2, recordCount(m));
  view.setUint32(4, header.sysUptimeMs >>> 0);
  view.setUint32(8, header.unixSecs >>> 0);
  view.setUint32(12, header.sequence >>> 0);
  view.setUint32(16, header.sourceId >>> 0);
  return out;
}

export type { ExportFlow, TemplateMessage };
