// The original document builder and serializer, kept verbatim (only renamed) as the
// reference the fast writer in document.ts must match byte for byte. Used only by tests
// (document-equivalence.test.ts); do not optimize it.
import { hexString } from '../protocol/address.js';
import type { FieldValue, FlowField } from '../protocol/templates/types.js';
import { communityId } from './community-id.js';
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
          ? communityId({
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
