// The original document builder and serializer, kept verbatim (only renamed) as the
// reference the fast writer in document.ts must match byte for byte, with the original
// Community ID function it called (community-id.ts has since been made faster). Used
// only by tests (document-equivalence.test.ts); do not optimize it.
import { createHash } from 'node:crypto';
import { hexString, parseIp } from '../protocol/address.js';
import type { FieldValue, FlowField } from '../protocol/templates/types.js';
import type { FlowRecord } from './record.js';
import { transportName } from './transport.js';

/** A document as sent to Elasticsearch (plain JSON, bigint for >2^53 counters). */
type FlowDocument = Record<string, unknown>;

const DATE_TYPES = new Set([
  'dateTimeSeconds',
  'dateTimeMilliseconds',
  'dateTimeMicroseconds',
  'dateTimeNanoseconds',
]);

/** Latest instant Elasticsearch dates accept with four-digit years (9999-12-31T23:59:59.999Z). */
const MAX_DATE_MS = 253_402_300_799_999;

/** ISO text of a time, or undefined when an exporter's value is no plausible date. */
function iso(ms: number): string | undefined {
  if (!(ms >= 0 && ms <= MAX_DATE_MS)) return undefined;
  return new Date(ms).toISOString();
}

function fieldValue(f: FlowField): unknown {
  const v: FieldValue = f.value;
  if (v instanceof Uint8Array) return hexString(v);
  if (typeof v === 'number' && DATE_TYPES.has(f.info.type)) return iso(v) ?? v;
  return v;
}

/** Every element under its registry name; a repeated element becomes an array. */
function netflowFields(fields: readonly FlowField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const key = f.info.field;
    const value = fieldValue(f);
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

function scaled(n: number | undefined, rate: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  return rate !== undefined && rate > 1 ? n * rate : n;
}

/** Both directions of a biflow; a plain flow has only the first. */
function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : a + b;
}

/** Drops undefined members so documents carry only what is known. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * The Elasticsearch document of a record: ECS fields for what every flow has, plus
 * every decoded element under `netflow.*` (the layout of Elastic's NetFlow integration),
 * the exporter under `netflow.exporter`, and sampling facts under `sluice.*`:
 * `network.bytes`/`packets` are the counts as sent, `sluice.scaled.*` multiplied by
 * the sampling rate.
 */
export function toDocumentReference(r: FlowRecord): FlowDocument {
  const ex = r.exporter;
  const timestampMs = r.endMs ?? ex.exportTimeMs ?? r.receivedMs;
  const isFlow = r.kind === 'flow';
  const icmp = r.protocol === 1 || r.protocol === 58;
  const type =
    r.kind === 'counters'
      ? `${ex.protocol}_counters`
      : r.kind === 'options'
        ? `${ex.protocol}_options`
        : `${ex.protocol}_flow`;

  const doc: FlowDocument = {
    '@timestamp': iso(timestampMs) ?? new Date(r.receivedMs).toISOString(),
    event: compact({
      kind: isFlow ? 'event' : 'metric',
      category: ['network'],
      type: isFlow ? ['connection'] : ['info'],
      action: type,
      created: iso(r.receivedMs),
      start: r.startMs !== undefined ? iso(r.startMs) : undefined,
      end: r.endMs !== undefined ? iso(r.endMs) : undefined,
      duration:
        r.startMs !== undefined && r.endMs !== undefined
          ? Math.round((r.endMs - r.startMs) * 1_000_000)
          : undefined,
    }),
    observer: compact({
      ip: ex.agent ?? ex.address,
      ingress:
        r.inInterface !== undefined ? { interface: { id: String(r.inInterface) } } : undefined,
      egress:
        r.outInterface !== undefined ? { interface: { id: String(r.outInterface) } } : undefined,
    }),
  };

  if (isFlow) {
    const rate = r.samplingRate;
    doc.source = compact({
      ip: r.srcAddr,
      port: icmp ? undefined : r.srcPort,
      mac: r.srcMac?.toUpperCase().replaceAll(':', '-'),
      bytes: r.bytes,
      packets: r.packets,
      as: r.srcAs !== undefined ? { number: r.srcAs } : undefined,
    });
    doc.destination = compact({
      ip: r.dstAddr,
      port: icmp ? undefined : r.dstPort,
      mac: r.dstMac?.toUpperCase().replaceAll(':', '-'),
      bytes: r.reverseBytes,
      packets: r.reversePackets,
      as: r.dstAs !== undefined ? { number: r.dstAs } : undefined,
    });
    doc.network = compact({
      transport: r.protocol !== undefined ? transportName(r.protocol) : undefined,
      iana_number: r.protocol !== undefined ? String(r.protocol) : undefined,
      type: r.ipVersion !== undefined ? `ipv${r.ipVersion}` : undefined,
      bytes: sum(r.bytes, r.reverseBytes),
      packets: sum(r.packets, r.reversePackets),
      direction: r.direction ?? 'unknown',
      community_id:
        r.srcAddr !== undefined && r.dstAddr !== undefined && r.protocol !== undefined
          ? communityIdReference({
              srcAddr: r.srcAddr,
              dstAddr: r.dstAddr,
              protocol: r.protocol,
              srcPort: r.srcPort,
              dstPort: r.dstPort,
              icmpType: r.icmpType,
              icmpCode: r.icmpCode,
            })
          : undefined,
      vlan: r.vlan !== undefined ? { id: String(r.vlan) } : undefined,
      inner: r.innerVlan !== undefined ? { vlan: { id: String(r.innerVlan) } } : undefined,
    });
    if (icmp && r.icmpType !== undefined) {
      doc.icmp = { type: r.icmpType, code: r.icmpCode };
    }
    if (r.srcAddr !== undefined || r.dstAddr !== undefined) {
      doc.related = { ip: [...new Set([r.srcAddr, r.dstAddr].filter((x) => x !== undefined))] };
    }
    doc.sluice = compact({
      sampling: rate !== undefined ? compact({ rate, source: r.samplingSource }) : undefined,
      scaled: compact({
        bytes: scaled(sum(r.bytes, r.reverseBytes), rate),
        packets: scaled(sum(r.packets, r.reversePackets), rate),
      }),
    });
  }

  const exporter = compact({
    address: ex.port !== undefined ? `${ex.address}:${ex.port}` : ex.address,
    ip: ex.address,
    version: ex.version,
    source_id: ex.domain,
    sequence: ex.sequence,
    uptime_millis: ex.uptimeMs,
    timestamp: ex.exportTimeMs !== undefined ? iso(ex.exportTimeMs) : undefined,
    agent: ex.agent,
  });
  if (ex.protocol === 'netflow') {
    doc.netflow = { ...netflowFields(r.fields), exporter, type };
  } else {
    doc.netflow = { exporter, type };
    if (r.extra) doc.sflow = r.extra;
  }
  return doc;
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** JSON text of a document; counters beyond 2^53 are written as decimal strings. */
export function serializeDocumentReference(doc: FlowDocument): string {
  return JSON.stringify(doc, bigintReplacer);
}

// Community ID v1 (corelight/community-id-spec): SHA-1 over seed, the ordered endpoint
// addresses, protocol, a zero pad byte and the ordered ports, base64, prefixed "1:".
// ICMP type/code stand in for ports as in the spec's reference implementation: a type
// with a request/response counterpart pairs with that counterpart (two-way), any
// other pairs with its code and is one-way (never reordered).

/** ICMPv4 request/response counterparts: echo, router, timestamp, info, address mask. */
const ICMP4_PAIRS = new Map<number, number>([
  [8, 0],
  [0, 8],
  [13, 14],
  [14, 13],
  [15, 16],
  [16, 15],
  [10, 9],
  [9, 10],
  [17, 18],
  [18, 17],
]);

/** ICMPv6: echo, MLD query/report, router and neighbor discovery, node info, HAAD. */
const ICMP6_PAIRS = new Map<number, number>([
  [128, 129],
  [129, 128],
  [130, 131],
  [131, 130],
  [133, 134],
  [134, 133],
  [135, 136],
  [136, 135],
  [139, 140],
  [140, 139],
  [144, 145],
  [145, 144],
]);

const PORTED = new Set([6, 17, 132]); // TCP, UDP, SCTP

interface CommunityIdInput {
  srcAddr: string;
  dstAddr: string;
  protocol: number;
  srcPort?: number | undefined;
  dstPort?: number | undefined;
  icmpType?: number | undefined;
  icmpCode?: number | undefined;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** The Community ID of a flow, or undefined when the tuple cannot make one. */
export function communityIdReference(f: CommunityIdInput, seed = 0): string | undefined {
  let src = parseIp(f.srcAddr);
  let dst = parseIp(f.dstAddr);
  if (!src || !dst || src.length !== dst.length) return undefined;
  let sport: number | undefined;
  let dport: number | undefined;
  let oneWay = false;
  if (PORTED.has(f.protocol)) {
    sport = f.srcPort;
    dport = f.dstPort;
    if (sport === undefined || dport === undefined) return undefined;
  } else if (f.protocol === 1 || f.protocol === 58) {
    if (f.icmpType === undefined) return undefined;
    const pair = (f.protocol === 1 ? ICMP4_PAIRS : ICMP6_PAIRS).get(f.icmpType);
    sport = f.icmpType;
    if (pair !== undefined) dport = pair;
    else {
      dport = f.icmpCode ?? 0;
      oneWay = true;
    }
  }
  if (!oneWay) {
    const c = compareBytes(src, dst);
    if (c > 0 || (c === 0 && sport !== undefined && dport !== undefined && sport > dport)) {
      [src, dst] = [dst, src];
      [sport, dport] = [dport, sport];
    }
  }
  const withPorts = sport !== undefined && dport !== undefined;
  const buf = new Uint8Array(2 + src.length * 2 + 2 + (withPorts ? 4 : 0));
  buf[0] = (seed >> 8) & 0xff;
  buf[1] = seed & 0xff;
  buf.set(src, 2);
  buf.set(dst, 2 + src.length);
  let o = 2 + src.length * 2;
  buf[o++] = f.protocol & 0xff;
  buf[o++] = 0;
  if (withPorts) {
    buf[o++] = ((sport as number) >> 8) & 0xff;
    buf[o++] = (sport as number) & 0xff;
    buf[o++] = ((dport as number) >> 8) & 0xff;
    buf[o++] = (dport as number) & 0xff;
  }
  return `1:${createHash('sha1').update(buf).digest('base64')}`;
}
