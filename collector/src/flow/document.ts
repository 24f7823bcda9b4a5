import { hexString } from '../protocol/address.js';
import type { ElementInfo } from '../protocol/ipfix/registry/index.js';
import type { FieldValue, FlowField } from '../protocol/templates/types.js';
import { communityId } from './community-id.js';
import {
  isoTime,
  jsonBigint,
  jsonNumber,
  jsonString,
  jsonValue,
  UnusualValue,
} from './fast-json.js';
import { LayoutCache } from './layout-cache.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import { transportName } from './transport.js';

// Two routes to the same document. `toDocument` builds it as an object (for callers that
// look inside) and `serializeDocument` writes that object. `documentText` writes the
// same JSON text straight from the record, without the object: it is the indexing hot
// path. Both must give exactly the text of the original builder, kept in
// document-reference.test-helpers.ts; document-equivalence.test.ts holds them to it.

/** A document as sent to Elasticsearch (plain JSON, bigint for >2^53 counters). */
export type FlowDocument = Record<string, unknown>;

const DATE_TYPES = new Set([
  'dateTimeSeconds',
  'dateTimeMilliseconds',
  'dateTimeMicroseconds',
  'dateTimeNanoseconds',
]);

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
// The direct writer.

/** Keys the spread `{ ...fields, exporter, type }` or JSON key order would treat apart. */
function plainFieldKey(key: string): boolean {
  return key !== 'exporter' && key !== 'type' && key !== '__proto__' && !/^[0-9]+$/.test(key);
}

/**
 * How the `netflow.*` members of one record layout are written: the `"key":` text of
 * each member in order, and which fields each member takes (more than one for an
 * element the record repeats: a JSON array, as netflowFields makes it).
 */
interface FieldsPlan {
  /** A key the direct writer cannot place like the object route: take the slow route. */
  readonly slow: boolean;
  /** For a layout without repeated keys: the `"key":` text of each field, comma first. */
  readonly keys: readonly string[] | undefined;
  /** Otherwise, per member: its `"key":` text and its fields' indexes. */
  readonly members: readonly { readonly key: string; readonly fields: readonly number[] }[];
  readonly isDate: readonly boolean[];
}

function fieldsPlan(infos: readonly ElementInfo[]): FieldsPlan {
  const byKey = new Map<string, number[]>();
  let slow = false;
  for (let i = 0; i < infos.length; i++) {
    const key = (infos[i] as ElementInfo).field;
    if (!plainFieldKey(key)) slow = true;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [i]);
    else list.push(i);
  }
  const members = [...byKey].map(([key, fields]) => ({ key: `${jsonString(key)}:`, fields }));
  return {
    slow,
    // Each key but the first carries the comma before it.
    keys:
      byKey.size === infos.length
        ? members.map((m, i) => (i === 0 ? m.key : `,${m.key}`))
        : undefined,
    members,
    isDate: infos.map((info) => DATE_TYPES.has(info.type)),
  };
}

const fieldsPlans = new LayoutCache(fieldsPlan);

/** One element's value as JSON, the way fieldValue + serializeDocument render it. */
function fieldText(v: FieldValue, isDate: boolean): string {
  switch (typeof v) {
    case 'number':
      if (isDate) {
        const t = iso(v);
        if (t !== undefined) return `"${t}"`;
      }
      return jsonNumber(v);
    case 'string':
      return jsonString(v);
    case 'bigint':
      return jsonBigint(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      if (v instanceof Uint8Array) return `"${hexString(v)}"`;
      return jsonValue(v) ?? 'null';
  }
}

/**
 * The `,"netflow":{` opening and the element members. Each member's key text carries
 * the comma before it, so a field costs two string pieces (key, value): the document's
 * text is a rope of pieces, and the fewer there are, the cheaper it is to flatten.
 */
function fieldsText(fields: readonly FlowField[], plan: FieldsPlan): string {
  let s = ',"netflow":{';
  const isDate = plan.isDate;
  const keys = plan.keys;
  if (keys !== undefined) {
    for (let i = 0; i < fields.length; i++) {
      s += (keys[i] as string) + fieldText((fields[i] as FlowField).value, isDate[i] === true);
    }
    return s;
  }
  let first = true;
  for (const m of plan.members) {
    const idx = m.fields;
    const one = (i: number) => fieldText((fields[i] as FlowField).value, isDate[i] === true);
    s += first ? m.key : `,${m.key}`;
    first = false;
    if (idx.length === 1) {
      s += one(idx[0] as number);
      continue;
    }
    s += `[${one(idx[0] as number)}`;
    for (let j = 1; j < idx.length; j++) s += `,${one(idx[j] as number)}`;
    s += ']';
  }
  return s;
}

/** The `"key":` text of a member, first in its object or after another. */
interface Key {
  readonly first: string;
  readonly next: string;
}

function key(name: string): Key {
  return { first: `"${name}":`, next: `,"${name}":` };
}

const K = {
  ip: key('ip'),
  port: key('port'),
  mac: key('mac'),
  bytes: key('bytes'),
  packets: key('packets'),
  as: key('as'),
  number: key('number'),
  transport: key('transport'),
  type: key('type'),
  direction: key('direction'),
  communityId: key('community_id'),
  vlan: key('vlan'),
  inner: key('inner'),
  code: key('code'),
  rate: key('rate'),
  source: key('source'),
  ingress: key('ingress'),
  egress: key('egress'),
  address: key('address'),
  version: key('version'),
  sourceId: key('source_id'),
  sequence: key('sequence'),
  uptimeMillis: key('uptime_millis'),
  timestamp: key('timestamp'),
  agent: key('agent'),
} as const;

/**
 * Appends the member `"key":<JSON of v>` to an object's members, unless JSON leaves it
 * out (v undefined). Members are joined with commas as they come: no text is sliced
 * (slicing a rope copies it).
 */
function add(members: string, k: Key, v: unknown): string {
  const text = jsonValue(v);
  if (text === undefined) return members;
  return members === '' ? k.first + text : members + k.next + text;
}

/** Appends a member whose JSON text is already written. */
function addText(members: string, k: Key, text: string): string {
  return members === '' ? k.first + text : members + k.next + text;
}

/**
 * The exporter's parts of a document, kept from the previous record: records of one
 * datagram share their exporter. Compared by value, not identity, so a changed or
 * rebuilt exporter object can never be served stale text.
 */
interface ExporterText {
  address: string;
  port: number | undefined;
  protocol: string;
  version: number;
  domain: number;
  sequence: number;
  uptimeMs: number | undefined;
  exportTimeMs: number | undefined;
  agent: string | undefined;
  /** The members of `observer` this exporter gives (its ip), maybe none. */
  observer: string;
  /** `"exporter":{...},"type":...}`: the end of `netflow`, per kind. */
  tails: readonly [string, string, string];
  /** `,` + tail + `}`: the end of a document after `netflow.*` elements, per kind. */
  ends: readonly [string, string, string];
  /** `","event":{` up to the action, for each kind. */
  events: readonly [string, string, string];
}

let exporterCache: ExporterText | undefined;

function sameExporter(c: ExporterText, ex: ExporterInfo): boolean {
  return (
    c.address === ex.address &&
    c.port === ex.port &&
    c.protocol === ex.protocol &&
    c.version === ex.version &&
    c.domain === ex.domain &&
    c.sequence === ex.sequence &&
    c.uptimeMs === ex.uptimeMs &&
    c.exportTimeMs === ex.exportTimeMs &&
    c.agent === ex.agent
  );
}

const KINDS = ['flow', 'options', 'counters'] as const;

function kindIndex(kind: FlowRecord['kind']): 0 | 1 | 2 {
  return kind === 'counters' ? 2 : kind === 'options' ? 1 : 0;
}

function exporterText(ex: ExporterInfo): ExporterText {
  if (exporterCache !== undefined && sameExporter(exporterCache, ex)) return exporterCache;
  let members = add('', K.address, ex.port !== undefined ? `${ex.address}:${ex.port}` : ex.address);
  members = add(members, K.ip, ex.address);
  members = add(members, K.version, ex.version);
  members = add(members, K.sourceId, ex.domain);
  members = add(members, K.sequence, ex.sequence);
  members = add(members, K.uptimeMillis, ex.uptimeMs);
  if (ex.exportTimeMs !== undefined) members = add(members, K.timestamp, iso(ex.exportTimeMs));
  members = add(members, K.agent, ex.agent);
  const types = KINDS.map((kind) =>
    jsonString(typeOf({ kind, exporter: ex, receivedMs: 0, fields: [] })),
  );
  const tail = (i: number) => `"exporter":{${members}},"type":${types[i]}}`;
  const event = (i: number) =>
    `","event":{"kind":${i === 0 ? '"event","category":["network"],"type":["connection"]' : '"metric","category":["network"],"type":["info"]'},"action":${types[i]}`;
  const c: ExporterText = {
    address: ex.address,
    port: ex.port,
    protocol: ex.protocol,
    version: ex.version,
    domain: ex.domain,
    sequence: ex.sequence,
    uptimeMs: ex.uptimeMs,
    exportTimeMs: ex.exportTimeMs,
    agent: ex.agent,
    observer: add('', K.ip, ex.agent ?? ex.address),
    tails: [tail(0), tail(1), tail(2)],
    ends: [`,${tail(0)}}`, `,${tail(1)}}`, `,${tail(2)}}`],
    events: [event(0), event(1), event(2)],
  };
  exporterCache = c;
  return c;
}

/** An interface or VLAN id: the document keeps them as strings. */
function idText(n: number): string {
  return jsonString(String(n));
}

/** `{"number":n}` of an AS. */
function asText(n: number): string {
  return `{${add('', K.number, n)}}`;
}

function flowText(r: FlowRecord): string {
  const icmp = r.protocol === 1 || r.protocol === 58;
  const rate = r.samplingRate;
  const bytes = sum(r.bytes, r.reverseBytes);
  const packets = sum(r.packets, r.reversePackets);

  let src = add('', K.ip, r.srcAddr);
  if (!icmp) src = add(src, K.port, r.srcPort);
  if (r.srcMac !== undefined) src = add(src, K.mac, macText(r.srcMac));
  src = add(src, K.bytes, r.bytes);
  src = add(src, K.packets, r.packets);
  if (r.srcAs !== undefined) src = addText(src, K.as, asText(r.srcAs));

  let dst = add('', K.ip, r.dstAddr);
  if (!icmp) dst = add(dst, K.port, r.dstPort);
  if (r.dstMac !== undefined) dst = add(dst, K.mac, macText(r.dstMac));
  dst = add(dst, K.bytes, r.reverseBytes);
  dst = add(dst, K.packets, r.reversePackets);
  if (r.dstAs !== undefined) dst = addText(dst, K.as, asText(r.dstAs));

  let net = '';
  if (r.protocol !== undefined) {
    net = `"transport":${jsonString(transportName(r.protocol))},"iana_number":${jsonString(String(r.protocol))}`;
  }
  if (r.ipVersion !== undefined) net = addText(net, K.type, jsonString(`ipv${r.ipVersion}`));
  net = add(net, K.bytes, bytes);
  net = add(net, K.packets, packets);
  net = add(net, K.direction, r.direction ?? 'unknown');
  net = add(net, K.communityId, flowCommunityId(r));
  if (r.vlan !== undefined) net = addText(net, K.vlan, `{"id":${idText(r.vlan)}}`);
  if (r.innerVlan !== undefined) {
    net = addText(net, K.inner, `{"vlan":{"id":${idText(r.innerVlan)}}}`);
  }

  let s = `,"source":{${src}},"destination":{${dst}},"network":{${net}}`;
  if (icmp && r.icmpType !== undefined) {
    s += `,"icmp":{${add(add('', K.type, r.icmpType), K.code, r.icmpCode)}}`;
  }
  if (r.srcAddr !== undefined || r.dstAddr !== undefined) {
    const ips =
      r.srcAddr === undefined
        ? [r.dstAddr]
        : r.dstAddr === undefined || r.dstAddr === r.srcAddr
          ? [r.srcAddr]
          : [r.srcAddr, r.dstAddr];
    s += `,"related":{"ip":${jsonValue(ips)}}`;
  }
  const scaledCounts = add(add('', K.bytes, scaled(bytes, rate)), K.packets, scaled(packets, rate));
  if (rate !== undefined) {
    const sampling = add(add('', K.rate, rate), K.source, r.samplingSource);
    return `${s},"sluice":{"sampling":{${sampling}},"scaled":{${scaledCounts}}}`;
  }
  return `${s},"sluice":{"scaled":{${scaledCounts}}}`;
}

/**
 * The document of a record as JSON text: exactly `serializeDocument(toDocument(r))`,
 * written straight from the record (no document object, no replacer, dates and hex
 * formatted by hand). This is what the indexer should call for every record.
 */
export function documentText(r: FlowRecord): string {
  // sFlow documents are mostly their nested `sflow.*` extras, which JSON.stringify's
  // native fast path writes quicker than this file's generic writer can.
  if (r.exporter.protocol !== 'netflow') return serializeDocument(toDocument(r));
  try {
    const text = directText(r);
    // The text is a rope of a few hundred pieces. Reading a character makes V8 flatten
    // it now, while the pieces are young garbage; a caller that keeps documents until a
    // bulk body is joined would otherwise keep every piece alive through scavenges,
    // which costs more than the flattening.
    // (The check is real, if never expected to fail: every document ends its object.)
    if (text.charCodeAt(text.length - 1) !== 0x7d) throw new Error('unterminated document');
    return text;
  } catch (err) {
    // Values that are not plain data: the object route knows how JSON renders them.
    if (err instanceof UnusualValue) return serializeDocument(toDocument(r));
    throw err;
  }
}

/** `,"key":"<ISO time>"`, or nothing for no plausible date. */
function dateMember(k: Key, ms: number): string {
  const t = iso(ms);
  return t === undefined ? '' : `${k.next}"${t}"`;
}

const EVENT_KEYS = { created: key('created'), start: key('start'), end: key('end') };

/** The document of a NetFlow/IPFIX record (sFlow records take the object route). */
function directText(r: FlowRecord): string {
  const ex = r.exporter;
  const plan = fieldsPlans.get(r.fields);
  if (plan.slow) return serializeDocument(toDocument(r));
  const kind = kindIndex(r.kind);
  const timestampMs = r.endMs ?? ex.exportTimeMs ?? r.receivedMs;
  const exp = exporterText(ex);

  const timestamp = iso(timestampMs) ?? new Date(r.receivedMs).toISOString();
  let s = `{"@timestamp":"${timestamp}${exp.events[kind]}${dateMember(EVENT_KEYS.created, r.receivedMs)}`;
  if (r.startMs !== undefined) s += dateMember(EVENT_KEYS.start, r.startMs);
  if (r.endMs !== undefined) {
    s += dateMember(EVENT_KEYS.end, r.endMs);
    if (r.startMs !== undefined) {
      s += `,"duration":${jsonNumber(Math.round((r.endMs - r.startMs) * 1_000_000))}`;
    }
  }
  let observer = exp.observer;
  if (r.inInterface !== undefined) {
    observer = addText(observer, K.ingress, `{"interface":{"id":${idText(r.inInterface)}}}`);
  }
  if (r.outInterface !== undefined) {
    observer = addText(observer, K.egress, `{"interface":{"id":${idText(r.outInterface)}}}`);
  }
  s += `},"observer":{${observer}}`;
  if (kind === 0) s += flowText(r);
  if (r.fields.length === 0) return `${s},"netflow":{${exp.tails[kind]}}`;
  return s + fieldsText(r.fields, plan) + exp.ends[kind];
}
