import { type ExportFlow, FIELD } from '../netflow/encode-flow.js';
import {
  type FlowTemplate,
  messageSize,
  type OptionsTemplate,
  type SetLayout,
  type TemplateMessage,
  writeMessage,
} from '../netflow/encode-sets.js';

/**
 * IPFIX messages (RFC 7011): a 16-byte header, a template set (id 2), an options
 * template set (id 3) and data sets. Flow times are flowStartMilliseconds /
 * flowEndMilliseconds (absolute); VLANs are dot1qVlanId and dot1qCustomerVlanId.
 */

export const IPFIX_HEADER_LENGTH = 16;
export const IPFIX_TEMPLATE_IPV4 = 256;
export const IPFIX_TEMPLATE_IPV6 = 257;
export const IPFIX_TEMPLATE_SAMPLING = 258;

const common = [
  FIELD.srcPort,
  FIELD.dstPort,
  FIELD.protocol,
  FIELD.tos,
  FIELD.tcpFlags2,
  FIELD.inIf,
  FIELD.outIf,
  FIELD.packets,
  FIELD.bytes,
  FIELD.startMs,
  FIELD.endMs,
  FIELD.vlanId,
  FIELD.dot1qVlanId,
  FIELD.dot1qCustomerVlanId,
];

export const IPFIX_FLOW_TEMPLATES: { readonly 4: FlowTemplate; readonly 6: FlowTemplate } = {
  4: {
    id: IPFIX_TEMPLATE_IPV4,
    ipVersion: 4,
    fields: [FIELD.src4, FIELD.dst4, ...common, FIELD.icmp4, FIELD.ipVersion],
  },
  6: {
    id: IPFIX_TEMPLATE_IPV6,
    ipVersion: 6,
    fields: [FIELD.src6, FIELD.dst6, ...common, FIELD.icmp6, FIELD.ipVersion],
  },
};

/** Scope observationDomainId (149); samplingInterval (34), samplingAlgorithm (35). */
export const IPFIX_SAMPLING_TEMPLATE: OptionsTemplate = {
  id: IPFIX_TEMPLATE_SAMPLING,
  scope: [{ id: 149, length: 4 }],
  options: [
    { id: 34, length: 4 },
    { id: 35, length: 1 },
  ],
};

export const IPFIX_LAYOUT: SetLayout = {
  headerLength: IPFIX_HEADER_LENGTH,
  templateSetId: 2,
  optionsTemplateSetId: 3,
  pad4: false,
  optionsTemplateLength: (t) => 6 + 4 * (t.scope.length + t.options.length),
  writeOptionsTemplate: (view, off, t) => {
    view.setUint16(off, t.id);
    view.setUint16(off + 2, t.scope.length + t.options.length);
    view.setUint16(off + 4, t.scope.length);
    let o = off + 6;
    for (const f of [...t.scope, ...t.options]) {
      view.setUint16(o, f.id);
      view.setUint16(o + 2, f.length);
      o += 4;
    }
    return o;
  },
  flowTemplates: IPFIX_FLOW_TEMPLATES,
  samplingTemplate: IPFIX_SAMPLING_TEMPLATE,
};

export interface IpfixHeader {
  /** Export time, seconds since the Unix epoch. */
  readonly exportSecs: number;
  /** Data records (options data included) sent before this message (mod 2^32). */
  readonly sequence: number;
  readonly domain: number;
}

/** Bytes an IPFIX message with this content takes. */
export function ipfixSize(m: TemplateMessage): number {
  return messageSize(IPFIX_LAYOUT, m);
}

/** Data records in a message: what the next message's sequence number adds. */
export function ipfixDataRecords(m: TemplateMessage): number {
  return m.flows.length + (m.sampling ? 1 : 0);
}

/** Encodes one IPFIX message. */
export function encodeIpfix(header: IpfixHeader, m: TemplateMessage): Uint8Array {
  const { out, view } = writeMessage(IPFIX_LAYOUT, m, 0, header.domain);
  if (out.length > 0xffff) throw new Error(`IPFIX message of ${out.length} bytes > 65535`);
  view.setUint16(0, 10);
  view.setUint16(2, out.length);
  view.setUint32(4, header.exportSecs >>> 0);
  view.setUint32(8, header.sequence >>> 0);
  view.setUint32(12, header.domain >>> 0);
  return out;
}

export type { ExportFlow, TemplateMessage };
