/**
 * TEST-ONLY helpers: a minimal classic-pcap reader and writer, and UDP datagram
 * extraction from Ethernet/VLAN/IPv4/IPv6 frames, so the decoder tests can feed real
 * captures and hand synthetic datagrams to tshark. Pure (bytes in, bytes out); not the
 * product's pcap reader. Format facts: libpcap file format (24-byte global header with
 * magic 0xa1b2c3d4 or 0xa1b23c4d for nanoseconds, either byte order; 16-byte record
 * headers: seconds, sub-seconds, captured length, original length).
 */

export interface PcapRecord {
  /** Link type from the global header (1 = Ethernet). */
  readonly linkType: number;
  /** Captured bytes. */
  readonly data: Uint8Array;
  /** Length of the packet on the wire. */
  readonly origLen: number;
}

export function readPcap(file: Uint8Array): PcapRecord[] {
  if (file.length < 24) throw new Error('pcap: shorter than its global header');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, false);
  let little: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) little = false;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) little = true;
  else throw new Error(`pcap: unknown magic 0x${magic.toString(16)} (pcapng is not supported)`);
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= file.length) {
    const incl = view.getUint32(off + 8, little);
    const orig = view.getUint32(off + 12, little);
    off += 16;
    if (off + incl > file.length) throw new Error('pcap: record runs past the end of the file');
    records.push({ linkType, data: file.subarray(off, off + incl), origLen: orig });
    off += incl;
  }
  return records;
}

export interface UdpDatagram {
  readonly srcAddr: string;
  readonly dstAddr: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** UDP payloads of the Ethernet frames of a capture (VLAN tags, IPv4 and IPv6 handled). */
export function udpDatagrams(records: readonly PcapRecord[]): UdpDatagram[] {
  const out: UdpDatagram[] = [];
  for (const r of records) {
    if (r.linkType !== 1) throw new Error(`pcap: link type ${r.linkType} is not Ethernet`);
    const d = r.data;
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    let off = 12;
    let type = v.getUint16(off);
    off += 2;
    while (type === 0x8100 || type === 0x88a8) {
      type = v.getUint16(off + 2);
      off += 4;
    }
    let proto: number;
    let src: string;
    let dst: string;
    if (type === 0x0800) {
      const ihl = ((d[off] as number) & 0x0f) * 4;
      proto = d[off + 9] as number;
      src = Array.from(d.subarray(off + 12, off + 16)).join('.');
      dst = Array.from(d.subarray(off + 16, off + 20)).join('.');
      off += ihl;
    } else if (type === 0x86dd) {
      proto = d[off + 6] as number;
      src = hex(d.subarray(off + 8, off + 24));
      dst = hex(d.subarray(off + 24, off + 40));
      off += 40;
    } else continue;
    if (proto !== 17) continue;
    const len = v.getUint16(off + 4);
    out.push({
      srcAddr: src,
      dstAddr: dst,
      srcPort: v.getUint16(off),
      dstPort: v.getUint16(off + 2),
      payload: d.subarray(off + 8, Math.min(off + len, d.length)),
    });
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export interface PcapPacket {
  readonly data: Uint8Array;
  /** Length on the wire (defaults to the data length); larger means a truncated capture. */
  readonly origLen?: number;
}

/** A classic little-endian microsecond pcap file holding `packets` (one second apart). */
export function writePcap(packets: readonly PcapPacket[], linkType = 1): Uint8Array {
  let size = 24;
  for (const p of packets) size += 16 + p.data.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, linkType, true);
  let off = 24;
  let t = 1_600_000_000;
  for (const p of packets) {
    v.setUint32(off, t++, true);
    v.setUint32(off + 8, p.data.length, true);
    v.setUint32(off + 12, Math.max(p.origLen ?? p.data.length, p.data.length), true);
    out.set(p.data, off + 16);
    off += 16 + p.data.length;
  }
  return out;
}

/** An Ethernet/IPv4/UDP frame carrying `payload` (checksums left zero: tshark accepts). */
export function udpFrame(payload: Uint8Array, srcPort: number, dstPort: number): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8 + payload.length);
  const v = new DataView(frame.buffer);
  frame.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  frame[14] = 0x45;
  v.setUint16(16, 20 + 8 + payload.length);
  frame[22] = 64;
  frame[23] = 17;
  frame.set([192, 0, 2, 1, 192, 0, 2, 2], 26);
  v.setUint16(34, srcPort);
  v.setUint16(36, dstPort);
  v.setUint16(38, 8 + payload.length);
  frame.set(payload, 42);
  return frame;
}
