import { hexString } from '../protocol/address.js';
import type { FieldValue, FlowField } from '../protocol/templates/types.js';
import { communityId } from './community-id.js';
import { DATE_TYPES, writeDirect } from './document-writer.js';
import { isoTime, UnusualValue } from './fast-json.js';
import { JsonOut, writeRaw } from './json-out.js';
import type { FlowRecord } from './record.js';
import { transportName } from './transport.js';

// Two routes to the same document. `toDocument` builds it as an object (for callers that
// look inside) and `serializeDocument` writes that object. `writeDocument` (and
// `documentText`, its text) writes the same JSON straight from the record as bytes,
// without the object (document-writer.ts): it is the indexing hot path. Both must give
// exactly the text of the original builder, kept in document-reference.test-helpers.ts;
// document-equivalence.test.ts holds them to it.

/** A document as sent to Elasticsearch (plain JSON, bigint for >2^53 counters). */
export type FlowDocument = Record<string, unknown>;

/** ISO text of a time, or undefined when an exporter's value is no plausible date. */
const iso = isoTime;

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

function typeOf(r: FlowRecord): string {
  const p = r.exporter.protocol;
  return r.kind === 'counters'
    ? `${p}_counters`
    : r.kind === 'options'
      ? `${p}_options`
      : `${p}_flow`;
}

function macText(mac: string | undefined): string | undefined {
  return mac?.toUpperCase().replaceAll(':', '-');
}

function flowCommunityId(r: FlowRecord): string | undefined {
  return r.srcAddr !== undefined && r.dstAddr !== undefined && r.protocol !== undefined
    ? communityId({
        srcAddr: r.srcAddr,
        dstAddr: r.dstAddr,
        protocol: r.protocol,
        srcPort: r.srcPort,
        dstPort: r.dstPort,
        icmpType: r.icmpType,
        icmpCode: r.icmpCode,
      })
    : undefined;
}

/** Sets `o[k] = v` unless v is undefined: objects built with only what is known. */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (v !== undefined) o[k] = v;
}

/**
 * The Elasticsearch document of a record: ECS fields for what every flow has, plus
 * every decoded element under `netflow.*` (the layout of Elastic's NetFlow integration),
 * the exporter under `netflow.exporter`, and sampling facts under `sluice.*`:
 * `network.bytes`/`packets` are the counts as sent, `sluice.scaled.*` multiplied by
 * the sampling rate. Members that are not known are absent (never undefined).
 */
export function toDocument(r: FlowRecord): FlowDocument {
  const ex = r.exporter;
  const timestampMs = r.endMs ?? ex.exportTimeMs ?? r.receivedMs;
  const isFlow = r.kind === 'flow';
  const icmp = r.protocol === 1 || r.protocol === 58;
  const type = typeOf(r);

  const event: Record<string, unknown> = {
    kind: isFlow ? 'event' : 'metric',
    category: ['network'],
    type: isFlow ? ['connection'] : ['info'],
    action: type,
  };
  put(event, 'created', iso(r.receivedMs));
  if (r.startMs !== undefined) put(event, 'start', iso(r.startMs));
  if (r.endMs !== undefined) put(event, 'end', iso(r.endMs));
  if (r.startMs !== undefined && r.endMs !== undefined) {
    event.duration = Math.round((r.endMs - r.startMs) * 1_000_000);
  }
  const observer: Record<string, unknown> = {};
  put(observer, 'ip', ex.agent ?? ex.address);
  if (r.inInterface !== undefined) observer.ingress = { interface: { id: String(r.inInterface) } };
  if (r.outInterface !== undefined) observer.egress = { interface: { id: String(r.outInterface) } };

  const doc: FlowDocument = {
    '@timestamp': iso(timestampMs) ?? new Date(r.receivedMs).toISOString(),
    event,
    observer,
  };

  if (isFlow) {
    const rate = r.samplingRate;
    const source: Record<string, unknown> = {};
    put(source, 'ip', r.srcAddr);
    if (!icmp) put(source, 'port', r.srcPort);
    put(source, 'mac', macText(r.srcMac));
    put(source, 'bytes', r.bytes);
    put(source, 'packets', r.packets);
    if (r.srcAs !== undefined) source.as = { number: r.srcAs };
    doc.source = source;

    const destination: Record<string, unknown> = {};
    put(destination, 'ip', r.dstAddr);
    if (!icmp) put(destination, 'port', r.dstPort);
    put(destination, 'mac', macText(r.dstMac));
    put(destination, 'bytes', r.reverseBytes);
    put(destination, 'packets', r.reversePackets);
    if (r.dstAs !== undefined) destination.as = { number: r.dstAs };
    doc.destination = destination;

    const network: Record<string, unknown> = {};
    if (r.protocol !== undefined) {
      network.transport = transportName(r.protocol);
      network.iana_number = String(r.protocol);
    }
    if (r.ipVersion !== undefined) network.type = `ipv${r.ipVersion}`;
    put(network, 'bytes', sum(r.bytes, r.reverseBytes));
    put(network, 'packets', sum(r.packets, r.reversePackets));
    network.direction = r.direction ?? 'unknown';
    put(network, 'community_id', flowCommunityId(r));
    if (r.vlan !== undefined) network.vlan = { id: String(r.vlan) };
    if (r.innerVlan !== undefined) network.inner = { vlan: { id: String(r.innerVlan) } };
    doc.network = network;

    if (icmp && r.icmpType !== undefined) {
      doc.icmp = { type: r.icmpType, code: r.icmpCode };
    }
    if (r.srcAddr !== undefined || r.dstAddr !== undefined) {
      doc.related = { ip: [...new Set([r.srcAddr, r.dstAddr].filter((x) => x !== undefined))] };
    }
    const sluice: Record<string, unknown> = {};
    if (rate !== undefined) {
      const sampling: Record<string, unknown> = { rate };
      put(sampling, 'source', r.samplingSource);
      sluice.sampling = sampling;
    }
    const scaledCounts: Record<string, unknown> = {};
    put(scaledCounts, 'bytes', scaled(sum(r.bytes, r.reverseBytes), rate));
    put(scaledCounts, 'packets', scaled(sum(r.packets, r.reversePackets), rate));
    sluice.scaled = scaledCounts;
    doc.sluice = sluice;
  }

  const exporter: Record<string, unknown> = {};
  put(exporter, 'address', ex.port !== undefined ? `${ex.address}:${ex.port}` : ex.address);
  put(exporter, 'ip', ex.address);
  put(exporter, 'version', ex.version);
  put(exporter, 'source_id', ex.domain);
  put(exporter, 'sequence', ex.sequence);
  put(exporter, 'uptime_millis', ex.uptimeMs);
  if (ex.exportTimeMs !== undefined) put(exporter, 'timestamp', iso(ex.exportTimeMs));
  put(exporter, 'agent', ex.agent);
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
export function serializeDocument(doc: FlowDocument): string {
  // Without a replacer JSON.stringify keeps V8's fast path. It throws a TypeError only
  // when it meets a bigint (or a cycle, which the retry reports again); when it does not
  // throw it met no bigint, and then the replacer would have changed nothing.
  try {
    return JSON.stringify(doc);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(doc, bigintReplacer);
  }
}

// ---------------------------------------------------------------------------------------
// The direct writer (document-writer.ts) and its fallback.

/**
 * Appends the document of a record, as UTF-8 JSON bytes, to `out`: exactly the text of
 * `serializeDocument(toDocument(r))`, written straight from the record. This is what the
 * indexing path calls for every record. On a throw (a record none of whose times is a
 * date) `out` is left as it was.
 */
export function writeDocument(out: JsonOut, r: FlowRecord): void {
  const start = out.pos;
  try {
    if (writeDirect(out, r)) return;
  } catch (err) {
    out.pos = start;
    // Values that are not plain data: the object route knows how JSON renders them.
    if (!(err instanceof UnusualValue)) throw err;
  }
  out.pos = start;
  writeRaw(out, serializeDocument(toDocument(r)));
}

const scratch = new JsonOut();

/** The document of a record as JSON text: exactly `serializeDocument(toDocument(r))`. */
export function documentText(r: FlowRecord): string {
  scratch.reset();
  writeDocument(scratch, r);
  return scratch.text();
}
