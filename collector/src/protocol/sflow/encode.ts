/**
 * sFlow v5 datagrams of packet samples, for the software exporter: each sample is a
 * flow_sample (enterprise 0, format 1) holding one sampled_header record (0, 1) with the
 * first bytes of the sampled frame. Layouts from sflow_version_5.txt (sFlow.org, July
 * 2004): XDR, big-endian 32-bit words, opaque data padded to 4 bytes. Pure: bytes out.
 */

/** One sampled packet. */
export interface SflowPacketSample {
  /** flow_sample sequence number (per source). */
  readonly sequence: number;
  /** source_id: type 0 (ifIndex) and this index. */
  readonly sourceIndex: number;
  /** 1-in-N: N. */
  readonly samplingRate: number;
  /** Packets that could have been sampled so far (the sample pool). */
  readonly samplePool: number;
  readonly drops: number;
  /** Input and output ifIndex (compact form, format 0; 0 = unknown). */
  readonly input: number;
  readonly output: number;
  /** header_protocol: 1 Ethernet, 11 IPv4, 12 IPv6. */
  readonly headerProtocol: number;
  /** Length of the packet on the wire. */
  readonly frameLength: number;
  /** Bytes removed from the packet before sampling (e.g. 4 when an FCS was cut). */
  readonly stripped: number;
  /** The first bytes of the packet. */
  readonly header: Uint8Array;
}

export interface SflowDatagramHeader {
  /** The agent: dotted IPv4 or IPv6 text (any valid form). */
  readonly agentAddress: string;
  readonly subAgentId: number;
  readonly sequence: number;
  /** Agent uptime, ms (mod 2^32). */
  readonly uptimeMs: number;
}

/** sampled_header: header bytes kept at most (the common default of agents). */
export const SFLOW_MAX_HEADER_BYTES = 128;

const pad4 = (n: number) => (n + 3) & ~3;

/** Bytes one sample takes in a datagram. */
export function sflowSampleBytes(headerLength: number): number {
  // sample tag + length, 8 words of flow_sample, record tag + length, 4 words, header.
  return 8 + 32 + 8 + 16 + pad4(headerLength);
}

/** Bytes of a datagram header for this agent address. */
export function sflowHeaderBytes(agentAddress: string): number {
  return agentAddress.includes(':') ? 40 : 28;
}

function writeAgent(view: DataView, out: Uint8Array, off: number, text: string): number {
  if (!text.includes(':')) {
    const parts = text.split('.').map(Number);
    if (parts.length !== 4 || parts.some((n) => !(Number.isInteger(n) && n >= 0 && n <= 255)))
      throw new Error(`not an IPv4 address: ${text}`);
    view.setUint32(off, 1);
    out.set(parts, off + 4);
    return off + 8;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [
    ...h,
    ...new Array<string>(tail === undefined ? 0 : 8 - h.length - t.length).fill('0'),
    ...t,
  ].map((w) => Number.parseInt(w, 16));
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff)))
    throw new Error(`not an IPv6 address (dotted tails are not taken here): ${text}`);
  view.setUint32(off, 2);
  words.forEach((w, i) => {
    view.setUint16(off + 4 + 2 * i, w);
  });
  return off + 20;
}

/** One sFlow v5 datagram holding `samples`. */
export function encodeSflowV5(
  h: SflowDatagramHeader,
  samples: readonly SflowPacketSample[],
): Uint8Array {
  let size = sflowHeaderBytes(h.agentAddress);
  for (const s of samples) size += sflowSampleBytes(s.header.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 5);
  let off = writeAgent(view, out, 4, h.agentAddress);
  view.setUint32(off, h.subAgentId >>> 0);
  view.setUint32(off + 4, h.sequence >>> 0);
  view.setUint32(off + 8, h.uptimeMs >>> 0);
  view.setUint32(off + 12, samples.length);
  off += 16;
  for (const s of samples) {
    const headerPadded = pad4(s.header.length);
    view.setUint32(off, 1); // enterprise 0, format 1: flow_sample
    view.setUint32(off + 4, sflowSampleBytes(s.header.length) - 8);
    view.setUint32(off + 8, s.sequence >>> 0);
    view.setUint32(off + 12, s.sourceIndex & 0xffffff); // source type 0 (ifIndex)
    view.setUint32(off + 16, s.samplingRate >>> 0);
    view.setUint32(off + 20, s.samplePool >>> 0);
    view.setUint32(off + 24, s.drops >>> 0);
    view.setUint32(off + 28, s.input & 0x3fffffff); // format 0: a single ifIndex
    view.setUint32(off + 32, s.output & 0x3fffffff);
    view.setUint32(off + 36, 1); // one record
    view.setUint32(off + 40, 1); // enterprise 0, format 1: sampled_header
    view.setUint32(off + 44, 16 + headerPadded);
    view.setUint32(off + 48, s.headerProtocol);
    view.setUint32(off + 52, s.frameLength >>> 0);
    view.setUint32(off + 56, s.stripped >>> 0);
    view.setUint32(off + 60, s.header.length);
    out.set(s.header, off + 64);
    off += 64 + headerPadded;
  }
  return out;
}
