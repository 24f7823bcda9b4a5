// The packets every measurement uses: synthetic exports with realistic content (built
// with the test-only byte builders) and the real NetFlow v9 capture from akvorado.
// Everything is deterministic, so the allocation child rebuilds exactly the same bytes.
import { join } from 'node:path';
import type { Datagram } from '../../collector/src/flow/decoder.js';
import { datagramsFromCaptures } from '../../collector/src/ingest/capture-source.js';
import {
  Bytes,
  type FieldSpec,
  ipfixMessage,
  ipfixTemplateRecord,
  set,
  v9Packet,
  v9TemplateRecord,
} from '../../collector/test/support/wire.js';

export const PCAPS_DIR = process.env.PCAPS_DIR ?? '/work/shared/pcaps';

export interface BenchCase {
  readonly name: CaseName;
  readonly label: string;
  /** One cycle of the exporter's stream, templates first; measurements loop over it. */
  readonly datagrams: readonly Datagram[];
  /** Flow records one cycle holds, when known by construction (synthetic cases). */
  readonly expectedPerCycle: number | undefined;
}

export const CASE_NAMES = ['v5', 'v9', 'ipfix', 'v9-capture', 'sflow-capture'] as const;
export type CaseName = (typeof CASE_NAMES)[number];

export const RECORDS_PER_PACKET = 30;
/** Distinct packets per synthetic cycle: enough variety that caches see real spread. */
const PACKETS_PER_CYCLE = 1000;
/** Templates ride at the head of every 20th packet (a common exporter refresh). */
const TEMPLATE_EVERY = 20;
const EXPORTER = '192.0.2.1';
const RECEIVED_MS = Date.UTC(2024, 0, 15, 12, 0, 0);
const BASE_SECS = Math.floor(RECEIVED_MS / 1000);

/** Small deterministic PRNG (mulberry32) so every process builds the same packets. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One flow's facts, shared by all three formats. */
interface Flow {
  src: number;
  dst: number;
  nextHop: number;
  srcPort: number;
  dstPort: number;
  protocol: number;
  tos: number;
  tcpFlags: number;
  inIf: number;
  outIf: number;
  bytes: number;
  packets: number;
  /** Offsets before the export time, ms. */
  startAgoMs: number;
  endAgoMs: number;
  srcAs: number;
  dstAs: number;
  srcMask: number;
  dstMask: number;
  direction: number;
}

const SERVICES = [443, 80, 53, 22, 123, 25, 993, 8080, 3306, 5432];

function flowMaker(seed: number): () => Flow {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  return () => {
    const r = rnd();
    const protocol = r < 0.7 ? 6 : r < 0.95 ? 17 : 1;
    const outbound = rnd() < 0.5;
    // Inside hosts in 10.0.0.0/16, outside ones anywhere in 1.0.0.0-223.255.255.255.
    const inside = (10 << 24) | (int(256) << 8) | int(256);
    const outside = ((1 + int(222)) << 24) | int(1 << 24);
    const service = SERVICES[int(SERVICES.length)] as number;
    const ephemeral = 32768 + int(28232);
    const icmp = protocol === 1 ? (rnd() < 0.5 ? 0x0800 : 0x0303) : 0;
    const packets = 1 + Math.floor(rnd() ** 3 * 50_000);
    const size = protocol === 6 ? 40 + int(1460) : 60 + int(500);
    const duration = int(120_000);
    const end = int(30_000);
    return {
      src: (outbound ? inside : outside) >>> 0,
      dst: (outbound ? outside : inside) >>> 0,
      nextHop: ((192 << 24) | (168 << 16) | int(4)) >>> 0,
      srcPort: protocol === 1 ? 0 : outbound ? ephemeral : service,
      dstPort: protocol === 1 ? icmp : outbound ? service : ephemeral,
      protocol,
      tos: rnd() < 0.9 ? 0 : int(64) << 2,
      tcpFlags: protocol === 6 ? 0x10 | int(0x40) : 0,
      inIf: outbound ? 1 + int(8) : 100 + int(4),
      outIf: outbound ? 100 + int(4) : 1 + int(8),
      bytes: packets * size,
      packets,
      startAgoMs: end + duration,
      endAgoMs: end,
      srcAs: outbound ? 64512 : 1 + int(65000),
      dstAs: outbound ? 1 + int(65000) : 64512,
      srcMask: outbound ? 24 : 8 + int(17),
      dstMask: outbound ? 8 + int(17) : 24,
      direction: outbound ? 1 : 0,
    };
  };
}

function datagram(bytes: Uint8Array): Datagram {
  return { bytes, exporter: EXPORTER, exporterPort: 50_000, receivedMs: RECEIVED_MS };
}

// NetFlow v5: Cisco's fixed 24-byte header and 48-byte records.
function v5Cycle(): Datagram[] {
  const next = flowMaker(5);
  const out: Datagram[] = [];
  let sequence = 0;
  for (let p = 0; p < PACKETS_PER_CYCLE; p++) {
    const uptimeMs = 3_600_000 + p * 10;
    const b = new Bytes()
      .u16(5)
      .u16(RECORDS_PER_PACKET)
      .u32(uptimeMs)
      .u32(BASE_SECS + Math.floor(p / 100))
      .u32(0)
      .u32(sequence)
      .u8(0)
      .u8(0)
      .u16(0);
    for (let i = 0; i < RECORDS_PER_PACKET; i++) {
      const f = next();
      b.u32(f.src).u32(f.dst).u32(f.nextHop).u16(f.inIf).u16(f.outIf);
      b.u32(f.packets)
        .u32(f.bytes)
        .u32(uptimeMs - f.startAgoMs)
        .u32(uptimeMs - f.endAgoMs);
      b.u16(f.srcPort).u16(f.dstPort).u8(0).u8(f.tcpFlags).u8(f.protocol).u8(f.tos);
      b.u16(f.srcAs & 0xffff)
        .u16(f.dstAs & 0xffff)
        .u8(f.srcMask)
        .u8(f.dstMask)
        .u16(0);
    }
    sequence += RECORDS_PER_PACKET;
    out.push(datagram(b.bytes()));
  }
  return out;
}

/** The typical template, element ids from the IANA registry (v9 shares the numbers). */
function template(v9: boolean): FieldSpec[] {
  const ifLen = v9 ? 2 : 4;
  const countLen = v9 ? 4 : 8;
  return [
    { id: 8, length: 4 }, // sourceIPv4Address
    { id: 12, length: 4 }, // destinationIPv4Address
    { id: 7, length: 2 }, // sourceTransportPort
    { id: 11, length: 2 }, // destinationTransportPort
    { id: 4, length: 1 }, // protocolIdentifier
    { id: 5, length: 1 }, // ipClassOfService
    { id: 6, length: 1 }, // tcpControlBits
    { id: 10, length: ifLen }, // ingressInterface
    { id: 14, length: ifLen }, // egressInterface
    { id: 1, length: countLen }, // octetDeltaCount
    { id: 2, length: countLen }, // packetDeltaCount
    v9 ? { id: 22, length: 4 } : { id: 152, length: 8 }, // first switched / flowStartMilliseconds
    v9 ? { id: 21, length: 4 } : { id: 153, length: 8 }, // last switched / flowEndMilliseconds
    { id: 16, length: 4 }, // bgpSourceAsNumber
    { id: 17, length: 4 }, // bgpDestinationAsNumber
    { id: 9, length: 1 }, // sourceIPv4PrefixLength
    { id: 13, length: 1 }, // destinationIPv4PrefixLength
    { id: 15, length: 4 }, // ipNextHopIPv4Address
    { id: 61, length: 1 }, // flowDirection
  ];
}

const TEMPLATE_ID = 260;

function recordBody(v9: boolean, flows: Flow[], uptimeMs: number, exportMs: number): Uint8Array {
  const b = new Bytes();
  for (const f of flows) {
    b.u32(f.src).u32(f.dst).u16(f.srcPort).u16(f.dstPort).u8(f.protocol).u8(f.tos).u8(f.tcpFlags);
    if (v9) b.u16(f.inIf).u16(f.outIf).u32(f.bytes).u32(f.packets);
    else b.u32(f.inIf).u32(f.outIf).u64(BigInt(f.bytes)).u64(BigInt(f.packets));
    if (v9) b.u32(uptimeMs - f.startAgoMs).u32(uptimeMs - f.endAgoMs);
    else b.u64(BigInt(exportMs - f.startAgoMs)).u64(BigInt(exportMs - f.endAgoMs));
    b.u32(f.srcAs).u32(f.dstAs).u8(f.srcMask).u8(f.dstMask).u32(f.nextHop).u8(f.direction);
  }
  return b.bytes();
}

function templatedCycle(v9: boolean): Datagram[] {
  const next = flowMaker(v9 ? 9 : 10);
  const fields = template(v9);
  const out: Datagram[] = [];
  let flowSeq = 0;
  for (let p = 0; p < PACKETS_PER_CYCLE; p++) {
    const uptimeMs = 3_600_000 + p * 10;
    const exportSecs = BASE_SECS + Math.floor(p / 100);
    const flows = Array.from({ length: RECORDS_PER_PACKET }, next);
    const withTemplate = p % TEMPLATE_EVERY === 0;
    const data = set(TEMPLATE_ID, recordBody(v9, flows, uptimeMs, exportSecs * 1000), 4);
    let bytes: Uint8Array;
    if (v9) {
      const sets = withTemplate ? [set(0, v9TemplateRecord(TEMPLATE_ID, fields)), data] : [data];
      const count = RECORDS_PER_PACKET + (withTemplate ? 1 : 0);
      bytes = v9Packet(sets, { sourceId: 1, sequence: p, unixSecs: exportSecs, uptimeMs, count });
    } else {
      const sets = withTemplate ? [set(2, ipfixTemplateRecord(TEMPLATE_ID, fields)), data] : [data];
      bytes = ipfixMessage(sets, { domain: 1, sequence: flowSeq, exportSecs });
    }
    flowSeq += RECORDS_PER_PACKET;
    out.push(datagram(bytes));
  }
  return out;
}

/**
 * akvorado's v9 capture: one template packet and one data packet (4 records). The cycle
 * sends the template, then the data packet 19 times, as the synthetic streams do; each
 * copy gets the next v9 sequence number (bytes 12-15) so it looks like a live exporter.
 */
function v9CaptureCycle(): Datagram[] {
  const dir = join(PCAPS_DIR, 'akvorado', 'netflow');
  const got = [...datagramsFromCaptures([join(dir, 'template.pcap'), join(dir, 'data.pcap')])];
  const [tpl, data] = got;
  if (got.length !== 2 || !tpl || !data) {
    throw new Error(`expected 2 datagrams in ${dir}/{template,data}.pcap, got ${got.length}`);
  }
  const out: Datagram[] = [];
  for (let p = 0; p < TEMPLATE_EVERY * 5; p++) {
    const bytes = Uint8Array.from(p % TEMPLATE_EVERY === 0 ? tpl.bytes : data.bytes);
    new DataView(bytes.buffer).setUint32(12, p);
    out.push(datagram(bytes));
  }
  return out;
}

/** Real sFlow v5 datagrams from akvorado's captures, only measured once sFlow decodes. */
function sflowCaptureCycle(): Datagram[] {
  const dir = join(PCAPS_DIR, 'akvorado', 'sflow');
  const files = ['data-1140.pcap', 'data-icmpv4.pcap', 'data-icmpv6.pcap'];
  return [...datagramsFromCaptures(files.map((f) => join(dir, f)))].map((d) => datagram(d.bytes));
}

const LABELS: Record<CaseName, string> = {
  v5: 'NetFlow v5 (synthetic)',
  v9: 'NetFlow v9 (synthetic)',
  ipfix: 'IPFIX (synthetic)',
  'v9-capture': 'NetFlow v9 (akvorado pcap)',
  'sflow-capture': 'sFlow v5 (akvorado pcaps)',
};

export function buildCase(name: CaseName): BenchCase {
  const datagrams =
    name === 'v5'
      ? v5Cycle()
      : name === 'v9'
        ? templatedCycle(true)
        : name === 'ipfix'
          ? templatedCycle(false)
          : name === 'v9-capture'
            ? v9CaptureCycle()
            : sflowCaptureCycle();
  const synthetic = name === 'v5' || name === 'v9' || name === 'ipfix';
  return {
    name,
    label: LABELS[name],
    datagrams,
    expectedPerCycle: synthetic ? datagrams.length * RECORDS_PER_PACKET : undefined,
  };
}

export function isCaseName(s: string): s is CaseName {
  return (CASE_NAMES as readonly string[]).includes(s);
}
