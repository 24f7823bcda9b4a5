/**
 * TEST-ONLY helpers for the decoder tests: capture records through the product's own
 * capture reader, UDP datagram extraction from Ethernet/VLAN/IPv4/IPv6 frames, and
 * captures of synthetic datagrams for tshark written with the testkit's pcap writer.
 * Pure (bytes in, bytes out).
 */
import { pcapFile, udpFrame as testkitUdpFrame } from '@sluice/testkit';
import { readCaptureAll } from '../capture/capture.js';

export interface PcapRecord {
  /** Link type of the frame's interface (1 = Ethernet). */
  readonly linkType: number;
  /** Captured bytes. */
  readonly data: Uint8Array;
  /** Length of the packet on the wire. */
  readonly origLen: number;
}

/** Every frame of a pcap or pcapng capture; throws if the file is damaged. */
export function readPcap(file: Uint8Array): PcapRecord[] {
  const { frames, end } = readCaptureAll(file);
  if (end.error) throw new Error(`capture: ${end.error.message}`);
  return frames.map((f) => ({ linkType: f.linkType, data: f.data, origLen: f.origLength }));
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
  return pcapFile(
    packets.map((p, i) => ({
      frame: p.data,
      sec: 1_600_000_000 + i,
      frac: 0,
      origLength: Math.max(p.origLen ?? p.data.length, p.data.length),
    })),
    { linkType },
  );
}

/** An Ethernet/IPv4/UDP frame carrying `payload` from 192.0.2.1 to 192.0.2.2. */
export function udpFrame(payload: Uint8Array, srcPort: number, dstPort: number): Uint8Array {
  return testkitUdpFrame('192.0.2.1', srcPort, '192.0.2.2', dstPort, payload);
}
