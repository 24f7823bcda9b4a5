// The document of a record written as UTF-8 JSON bytes straight from the record: no
// document object, no string pieces. It must give exactly the text of the reference
// builder (document-reference.test-helpers.ts); document-equivalence.test.ts holds it
// to that for captured and generated records. Values that are not plain data raise
// UnusualValue and the caller (document.ts) writes the document the object route.
import type { ElementInfo } from '../protocol/ipfix/registry/index.js';
import type { FieldValue, FlowField } from '../protocol/templates/types.js';
import { type CommunityIdInput, writeCommunityId } from './community-id.js';
import {
  MAX_PARAM_TEXT,
  type MembersSegment,
  membersSegments,
  type SegmentHelpers,
  type ShapeSegments,
  shapeSegments,
} from './document-compiled.js';
import { shapeOf } from './document-shape.js';
import { jsonString, jsonValue, UnusualValue } from './fast-json.js';
import {
  compileFieldsWriter,
  compileValuesWriter,
  type FieldsWriter,
  type ValuesWriter,
  type ValueWriters,
} from './fields-writer.js';
import {
  DIGITS4,
  DIGITS4_LENGTH,
  digitsAt,
  ipv4At,
  isoAt,
  JsonOut,
  PADDED4,
  smallDigits,
  Text,
  textAt,
  uintAt,
  writeByte,
  writeHexString,
  writeIpv4Quoted,
  writeIsoQuoted,
  writeNumber,
  writeNumberText,
  writeRaw,
  writeString,
  writeText,
  writeTextNumber,
} from './json-out.js';
import { writeJsonValue } from './json-value-writer.js';
import { LayoutCache } from './layout-cache.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import { sflowPlain, writeSflowFlow } from './sflow-document.js';
import { writeSflowExtra } from './sflow-extra.js';
import { FLOW_EXTRA_TO_JSON, SflowFlowExtra } from './sflow-flow-extra.js';
import { SflowRecord } from './sflow-record.js';
import { transportName } from './transport.js';

const UNUSUAL = new UnusualValue('value needs JSON.stringify');

export const DATE_TYPES: ReadonlySet<string> = new Set([
  'dateTimeSeconds',
  'dateTimeMilliseconds',
  'dateTimeMicroseconds',
  'dateTimeNanoseconds',
]);

/** The `"key":` text of a member, first in its object or after another. */
export interface Key {
  readonly first: Text;
  readonly next: Text;
}

function key(name: string): Key {
  return { first: new Text(`"${name}":`), next: new Text(`,"${name}":`) };
}

export const K = {
  ip: key('ip'),
  port: key('port'),
  mac: key('mac'),
  bytes: key('bytes'),
  packets: key('packets'),
  as: key('as'),
  number: key('number'),
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
  created: key('created'),
  start: key('start'),
  end: key('end'),
  duration: key('duration'),
} as const;

/** Constant pieces, named by their text. */
export const T = {
  timestamp: new Text('{"@timestamp":'),
  observer: new Text('},"observer":{'),
  interfaceId: new Text('{"interface":{"id":'),
  /** The observer's end and the source's head (writeFlow comes right after observer). */
  source: new Text('},"source":{'),
  sourceIp: new Text('},"source":{"ip":'),
  destination: new Text('},"destination":{'),
  destinationIp: new Text('},"destination":{"ip":'),
  network: new Text('},"network":{'),
  transport: new Text('"transport":'),
  ianaNumber: new Text(',"iana_number":'),
  ipv4First: new Text('"type":"ipv4"'),
  ipv4Next: new Text(',"type":"ipv4"'),
  idOpen: new Text('{"id":'),
  innerVlan: new Text('{"vlan":{"id":'),
  icmp: new Text(',"icmp":{'),
  related: new Text(',"related":{"ip":['),
  sluiceSampling: new Text(',"sluice":{"sampling":{'),
  samplingScaled: new Text('},"scaled":{'),
  sluiceScaled: new Text(',"sluice":{"scaled":{'),
  relatedEndSampling: new Text(']},"sluice":{"sampling":{'),
  relatedEndScaled: new Text(']},"sluice":{"scaled":{'),
  directionUnknown: new Text(',"direction":"unknown"'),
  directionIngress: new Text(',"direction":"ingress"'),
  directionEgress: new Text(',"direction":"egress"'),
  netflow: new Text(',"netflow":{'),
  /** The end of sluice.scaled and sluice (writeFlow's last part), then netflow's head. */
  flowEndNetflow: new Text('}},"netflow":{'),
  sflow: new Text(',"sflow":'),
  true: new Text('true'),
  false: new Text('false'),
  unknown: new Text('"unknown"'),
  ingress: new Text('"ingress"'),
  egress: new Text('"egress"'),
} as const;

/**
 * Writes the member `"key":<JSON of v>` unless JSON leaves it out (undefined,
 * functions, symbols); returns whether the object is still empty.
 */
export function member(o: JsonOut, k: Key, v: unknown, first: boolean): boolean {
  switch (typeof v) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return first;
    case 'number':
      writeText(o, first ? k.first : k.next);
      writeNumber(o, v);
      return false;
    case 'string':
      writeText(o, first ? k.first : k.next);
      writeString(o, v);
      return false;
    default:
      writeText(o, first ? k.first : k.next);
      writeValue(o, v);
      return false;
  }
}

/**
 * `member` for a member typed as a number: the same text, with the number written
 * straight away when it is one (the common case) and anything else left to `member`.
 */
export function numMember(o: JsonOut, k: Key, v: number | undefined, first: boolean): boolean {
  if (typeof v === 'number') {
    writeTextNumber(o, first ? k.first : k.next, v);
    return false;
  }
  return member(o, k, v, first);
}

/**
 * Any value JSON writes (not undefined/function/symbol): plain values as the general
 * value writer writes them; objects through JSON.stringify (the document's replacer), so
 * that a class instance or a toJSON method is written as the object route writes it.
 */
function writeValue(o: JsonOut, v: unknown): void {
  if (typeof v === 'object' && v !== null) writeRaw(o, jsonValue(v) ?? 'null');
  else writeJsonValue(o, v);
}

/** An interface or VLAN id: the document keeps them as strings (`String(n)`). */
export function writeIdString(o: JsonOut, v: number): void {
  if (typeof v !== 'number') {
    writeString(o, String(v));
    return;
  }
  writeByte(o, 0x22);
  writeNumberText(o, v);
  writeByte(o, 0x22);
}

function scaled(n: number | undefined, rate: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  return rate !== undefined && rate > 1 ? n * rate : n;
}

/** Both directions of a biflow; a plain flow has only the first. */
function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : a + b;
}

/**
 * `"mac":` and the MAC text as the document writes it: upper case, dashes for colons
 * (`mac.toUpperCase().replaceAll(':', '-')`). Plain ASCII letters, digits and colons
 * are mapped byte by byte; anything else takes the string functions.
 */
export function macMember(o: JsonOut, mac: string, first: boolean): boolean {
  if (typeof mac !== 'string') {
    return member(o, K.mac, (mac as string).toUpperCase().replaceAll(':', '-'), first);
  }
  writeText(o, first ? K.mac.first : K.mac.next);
  const n = mac.length;
  o.reserve(n + 2);
  const b = o.buf;
  let p = o.pos;
  b[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    let c = mac.charCodeAt(i);
    if (c === 0x3a) c = 0x2d;
    else if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a))) {
      writeString(o, mac.toUpperCase().replaceAll(':', '-'));
      return false;
    }
    b[p++] = c;
  }
  b[p++] = 0x22;
  o.pos = p;
  return false;
}

function typeOf(protocol: string, kind: number): string {
  return kind === 2
    ? `${protocol}_counters`
    : kind === 1
      ? `${protocol}_options`
      : `${protocol}_flow`;
}

function kindIndex(kind: FlowRecord['kind']): 0 | 1 | 2 {
  return kind === 'counters' ? 2 : kind === 'options' ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// What depends only on the exporter, kept from the previous record: records of one
// exporter come in runs. Compared by value, not identity, so a changed or rebuilt
// exporter object can never be served stale text. The members that change with every
// datagram (sequence, uptime, export time) are not part of it: they are written per
// record between the constant head and end, so the parts last across datagrams.

export interface ExporterParts {
  address: string;
  port: number | undefined;
  protocol: string;
  version: number;
  domain: number;
  agent: string | undefined;
  /** `,"event":{` ... `"action":<type>`, per kind, made when needed. */
  events: (Text | undefined)[];
  /** `},"observer":{` and its `ip` member (the agent, else the exporter's address). */
  observer: Text;
  /** Whether the observer has no `ip` member (the next one comes first). */
  observerEmpty: boolean;
  /** `"exporter":{` and the address, ip, version and source_id members. */
  head: Text;
  /** The same after a comma (after the `netflow.*` members). */
  commaHead: Text;
  /** Whether the head wrote no member (the next one comes first). */
  headEmpty: boolean;
  /** Whether the generated segments can write this exporter's records (document-compiled.ts). */
  compiled: boolean;
  /**
   * The agent member and `},"type":<type>}`, the end of `netflow`, per kind and
   * (index + 3) whether a member came before the agent; made when needed.
   */
  ends: (Text | undefined)[];
}

/**
 * The parts of the exporters seen last (a collector's decode worker serves many; an
 * sFlow datagram's agent alternates with others'), the last one used first. Bounded:
 * past EXPORTER_SLOTS the oldest entry is replaced.
 */
const EXPORTER_SLOTS = 16;
const exporterCache: ExporterParts[] = [];
let exporterLast: ExporterParts | undefined;
let exporterNextSlot = 0;

function sameExporter(c: ExporterParts, ex: ExporterInfo): boolean {
  return (
    c.address === ex.address &&
    c.port === ex.port &&
    c.protocol === ex.protocol &&
    c.version === ex.version &&
    c.domain === ex.domain &&
    c.agent === ex.agent
  );
}

/** Scratch output for the constant parts, written by the same writers, then kept as Text. */
const partScratch = new JsonOut(256);

export function exporterParts(ex: ExporterInfo): ExporterParts {
  const last = exporterLast;
  if (last !== undefined && sameExporter(last, ex)) return last;
  for (const c of exporterCache) {
    if (sameExporter(c, ex)) {
      exporterLast = c;
      return c;
    }
  }
  const o = partScratch;
  o.reset();
  writeText(o, T.observer);
  const observerEmpty = member(o, K.ip, ex.agent ?? ex.address, true);
  const observer = new Text(o.text());
  o.reset();
  writeText(o, X.exporter);
  const address = ex.port !== undefined ? `${ex.address}:${ex.port}` : ex.address;
  let f = member(o, X.address, address, true);
  f = member(o, X.ip, ex.address, f);
  f = member(o, X.version, ex.version, f);
  f = member(o, X.sourceId, ex.domain, f);
  const head = new Text(o.text());
  const commaHead = new Text(`,${o.text()}`);
  const next: ExporterParts = {
    address: ex.address,
    port: ex.port,
    protocol: ex.protocol,
    version: ex.version,
    domain: ex.domain,
    agent: ex.agent,
    events: [undefined, undefined, undefined],
    observer,
    observerEmpty,
    head,
    commaHead,
    headEmpty: f,
    compiled:
      ex.protocol === 'netflow' &&
      ex.agent === undefined &&
      !observerEmpty &&
      !f &&
      observer.simple &&
      head.simple &&
      commaHead.simple &&
      observer.length <= MAX_PARAM_TEXT &&
      commaHead.length <= MAX_PARAM_TEXT,
    ends: [undefined, undefined, undefined, undefined, undefined, undefined],
  };
  exporterCache[exporterNextSlot] = next;
  exporterNextSlot = (exporterNextSlot + 1) % EXPORTER_SLOTS;
  exporterLast = next;
  return next;
}

/** The agent member and `},"type":<type>}`, after members (or none, `first`). */
function endText(parts: ExporterParts, kind: number, first: boolean): Text {
  const slot = first ? kind : kind + 3;
  let t = parts.ends[slot];
  if (t === undefined) {
    const o = partScratch;
    o.reset();
    member(o, X.agent, parts.agent, first);
    writeText(o, X.type);
    writeString(o, typeOf(parts.protocol, kind));
    writeByte(o, 0x7d);
    t = new Text(o.text());
    parts.ends[slot] = t;
  }
  return t;
}

/** The key eventText ends with: `event.created` is always written next (or taken back). */
export const CREATED = ',"created":';

/** `,"event":{` ... `"action":<type>,"created":`, per kind. */
export function eventText(parts: ExporterParts, kind: number): Text {
  let t = parts.events[kind];
  if (t === undefined) {
    const head =
      kind === 0
        ? '"event","category":["network"],"type":["connection"]'
        : '"metric","category":["network"],"type":["info"]';
    const action = jsonString(typeOf(parts.protocol, kind));
    t = new Text(`,"event":{"kind":${head},"action":${action}${CREATED}`);
    parts.events[kind] = t;
  }
  return t;
}

const X = {
  exporter: new Text('"exporter":{'),
  address: key('address'),
  ip: K.ip,
  version: key('version'),
  sourceId: key('source_id'),
  sequence: key('sequence'),
  uptimeMillis: key('uptime_millis'),
  timestamp: key('timestamp'),
  agent: key('agent'),
  type: new Text('},"type":'),
} as const;

/** `"exporter":{...},"type":<type>}`: the constant head and end, this datagram's members between. */
export function writeTail(
  o: JsonOut,
  parts: ExporterParts,
  ex: ExporterInfo,
  kind: number,
  comma: boolean,
): void {
  writeText(o, comma ? parts.commaHead : parts.head);
  let f = numMember(o, X.sequence, ex.sequence, parts.headEmpty);
  f = numMember(o, X.uptimeMillis, ex.uptimeMs, f);
  if (ex.exportTimeMs !== undefined) {
    const at = o.pos;
    writeText(o, f ? X.timestamp.first : X.timestamp.next);
    if (writeIsoQuoted(o, ex.exportTimeMs)) f = false;
    else o.pos = at;
  }
  writeText(o, endText(parts, kind, f));
}

// ---------------------------------------------------------------------------------------
// `netflow.*`: per record layout, the key text of each member.

/** Keys the spread `{ ...fields, exporter, type }` or JSON key order would treat apart. */
function plainFieldKey(key: string): boolean {
  return key !== 'exporter' && key !== 'type' && key !== '__proto__' && !/^[0-9]+$/.test(key);
}

/**
 * How the `netflow.*` members of one record layout are written: the `"key":` text of
 * each member in order, and which fields each member takes (more than one for an
 * element the record repeats: a JSON array, as the object route makes it).
 */
interface FieldsPlan {
  /** A key the direct writer cannot place like the object route: take the object route. */
  readonly slow: boolean;
  /** For a layout without repeated keys: the `"key":` text of each field, comma first. */
  readonly keys: readonly Text[] | undefined;
  /** Otherwise, per member: its `"key":` text (comma first but for the first) and fields. */
  readonly members: readonly { readonly key: Text; readonly fields: readonly number[] }[];
  readonly isDate: readonly boolean[];
  /** IPv4 address elements, whose fields may carry their number (FlowField.ipv4). */
  readonly isIpv4: readonly boolean[];
  /** Records written with this plan so far (a layout is compiled once it is common). */
  uses: number;
  /** The layout's generated writer (fields-writer.ts), once compiled. */
  compiled: FieldsWriter | undefined;
  /** The same for decoded records' values (FlowRecord.values), and its count. */
  compiledValues: ValuesWriter | undefined;
  valueUses: number;
  /** The layout's `netflow.*` segments for the generated document writer (null: none). */
  segments: MembersSegment[] | null | undefined;
}

/** Records of a layout written by the generic loop before its writer is generated. */
const COMPILE_AFTER = 64;

const VALUE_WRITERS: ValueWriters = {
  number: writeNumber,
  iso: writeIsoQuoted,
  field: (o, v, isDate) => writeField(o, v as FieldValue, isDate),
  ipv4: writeIpv4Quoted,
  digits: smallDigits,
};

function fieldsPlan(infos: readonly ElementInfo[]): FieldsPlan {
  const byKey = new Map<string, number[]>();
  let slow = false;
  for (let i = 0; i < infos.length; i++) {
    const name = (infos[i] as ElementInfo).field;
    if (!plainFieldKey(name)) slow = true;
    const list = byKey.get(name);
    if (list === undefined) byKey.set(name, [i]);
    else list.push(i);
  }
  const members = [...byKey].map(([name, fields], i) => ({
    key: new Text(`${i === 0 ? '' : ','}${jsonString(name)}:`),
    fields,
  }));
  return {
    slow,
    keys: byKey.size === infos.length ? members.map((m) => m.key) : undefined,
    members,
    isDate: infos.map((info) => DATE_TYPES.has(info.type)),
    isIpv4: infos.map((info) => info.type === 'ipv4Address'),
    uses: 0,
    compiled: undefined,
    compiledValues: undefined,
    valueUses: 0,
    segments: undefined,
  };
}

const fieldsPlans = new LayoutCache(fieldsPlan);

/**
 * One element's value, as the object route renders it: what writeValue writes, but dates
 * as ISO text and bytes as hex.
 */
function writeField(o: JsonOut, v: FieldValue, isDate: boolean): void {
  if (isDate && typeof v === 'number' && writeIsoQuoted(o, v)) return;
  if (typeof v === 'object' && v instanceof Uint8Array) {
    writeHexString(o, v);
    return;
  }
  writeValue(o, v);
}

/** One element's value: an IPv4 address from its number where `ipv4` says so. */
function writeValueAt(
  o: JsonOut,
  values: readonly FieldValue[],
  ipv4: Uint8Array,
  i: number,
  isDate: boolean,
): void {
  const v = values[i] as FieldValue;
  if (ipv4[i] === 1) writeIpv4Quoted(o, v as number);
  else writeField(o, v, isDate);
}

/** `netflow.*` from a decoded record's values (FlowRecord.values, layout.ipv4). */
function writeValues(
  o: JsonOut,
  values: readonly FieldValue[],
  ipv4: Uint8Array,
  plan: FieldsPlan,
): void {
  const isDate = plan.isDate;
  const keys = plan.keys;
  if (keys !== undefined) {
    if (plan.compiledValues !== undefined) {
      plan.compiledValues(o, values, ipv4);
      return;
    }
    if (++plan.valueUses === COMPILE_AFTER)
      plan.compiledValues = compileValuesWriter(keys, isDate, plan.isIpv4, VALUE_WRITERS);
    for (let i = 0; i < values.length; i++) {
      writeText(o, keys[i] as Text);
      writeValueAt(o, values, ipv4, i, isDate[i] === true);
    }
    return;
  }
  for (const m of plan.members) {
    const idx = m.fields;
    writeText(o, m.key);
    if (idx.length === 1) {
      const i = idx[0] as number;
      writeValueAt(o, values, ipv4, i, isDate[i] === true);
      continue;
    }
    writeByte(o, 0x5b); // [
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j] as number;
      if (j > 0) writeByte(o, 0x2c);
      writeValueAt(o, values, ipv4, i, isDate[i] === true);
    }
    writeByte(o, 0x5d); // ]
  }
}

/** `netflow.*` from a record's fields. */
function writeFields(o: JsonOut, fields: readonly FlowField[], plan: FieldsPlan): void {
  const isDate = plan.isDate;
  const keys = plan.keys;
  if (keys !== undefined) {
    if (plan.compiled !== undefined) {
      plan.compiled(o, fields);
      return;
    }
    if (++plan.uses === COMPILE_AFTER)
      plan.compiled = compileFieldsWriter(keys, isDate, plan.isIpv4, VALUE_WRITERS);
    for (let i = 0; i < fields.length; i++) {
      writeText(o, keys[i] as Text);
      const f = fields[i] as FlowField;
      if (f.ipv4 !== undefined) writeIpv4Quoted(o, f.ipv4);
      else writeField(o, f.value, isDate[i] === true);
    }
    return;
  }
  for (const m of plan.members) {
    const idx = m.fields;
    writeText(o, m.key);
    if (idx.length === 1) {
      const i = idx[0] as number;
      writeField(o, (fields[i] as FlowField).value, isDate[i] === true);
      continue;
    }
    writeByte(o, 0x5b); // [
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j] as number;
      if (j > 0) {
        writeByte(o, 0x2c);
      }
      writeField(o, (fields[i] as FlowField).value, isDate[i] === true);
    }
    writeByte(o, 0x5d); // ]
  }
}

// ---------------------------------------------------------------------------------------
// The document.

/** `"as":{"number":` as one constant, first in its object or after another. */
const AS_NUMBER: Key = { first: new Text('"as":{"number":'), next: new Text(',"as":{"number":') };

export function writeAs(o: JsonOut, k: Key, n: number, first: boolean): void {
  if (typeof n === 'number' && k === K.as) {
    writeTextNumber(o, first ? AS_NUMBER.first : AS_NUMBER.next, n);
    writeByte(o, 0x7d); // }
    return;
  }
  writeText(o, first ? k.first : k.next);
  writeByte(o, 0x7b); // {
  numMember(o, K.number, n, true);
  writeByte(o, 0x7d); // }
}

export function writeDirection(o: JsonOut, d: FlowRecord['direction'], first: boolean): void {
  writeText(o, first ? K.direction.first : K.direction.next);
  if (d === undefined || d === 'unknown') writeText(o, T.unknown);
  else if (d === 'ingress') writeText(o, T.ingress);
  else if (d === 'egress') writeText(o, T.egress);
  else writeValue(o, d);
}

// Addresses: from their number when the record has one (FlowRecord.srcIpv4/dstIpv4),
// reading the text only otherwise (a NetflowRecord makes it on first read).

function hasSrc(r: FlowRecord): boolean {
  return r.srcIpv4 !== undefined || r.srcAddr !== undefined;
}

function hasDst(r: FlowRecord): boolean {
  return r.dstIpv4 !== undefined || r.dstAddr !== undefined;
}

function writeSrc(o: JsonOut, r: FlowRecord): void {
  if (r.srcIpv4 !== undefined) writeIpv4Quoted(o, r.srcIpv4);
  else writeValue(o, r.srcAddr);
}

function writeDst(o: JsonOut, r: FlowRecord): void {
  if (r.dstIpv4 !== undefined) writeIpv4Quoted(o, r.dstIpv4);
  else writeValue(o, r.dstAddr);
}

/** Whether the two addresses are the same (the text compared, as the original does). */
function sameAddress(r: FlowRecord): boolean {
  if (r.srcIpv4 !== undefined && r.dstIpv4 !== undefined) return r.srcIpv4 === r.dstIpv4;
  return r.dstAddr === r.srcAddr;
}

/** The `ip` member of source or destination, as `member` writes it. */
function addressMember(o: JsonOut, r: FlowRecord, src: boolean, first: boolean): boolean {
  const n = src ? r.srcIpv4 : r.dstIpv4;
  if (n === undefined) return member(o, K.ip, src ? r.srcAddr : r.dstAddr, first);
  writeText(o, first ? K.ip.first : K.ip.next);
  writeIpv4Quoted(o, n);
  return false;
}

/**
 * `},"network":{"transport":<name>,"iana_number":"<n>"` per protocol number 0-255 and,
 * at 256 + n, the same followed by `,"type":"ipv4"`: made on first use, one constant
 * instead of up to six writes.
 */
const networkTexts: (Text | undefined)[] = new Array(512).fill(undefined);

export function networkText(p: number, ipv4: boolean): Text | undefined {
  if (!(p >= 0 && p <= 255 && (p | 0) === p)) return undefined;
  const i = ipv4 ? 256 + p : p;
  let t = networkTexts[i];
  if (t === undefined) {
    const head = `},"network":{"transport":${jsonString(transportName(p))},"iana_number":"${p}"`;
    t = new Text(ipv4 ? `${head},"type":"ipv4"` : head);
    networkTexts[i] = t;
  }
  return t;
}

/**
 * `source` (src) or `destination` of a flow record, from the `}` that ends the member
 * before it, left open: the address (`"ip":` in the head constant when it is an IPv4
 * number), the port (not for ICMP), MAC, the direction's bytes and packets (the reverse
 * counters for the destination) and the AS.
 */
function writeEndpoint(o: JsonOut, r: FlowRecord, src: boolean, icmp: boolean): void {
  const ipv4 = src ? r.srcIpv4 : r.dstIpv4;
  let f: boolean;
  if (ipv4 !== undefined) {
    writeText(o, src ? T.sourceIp : T.destinationIp);
    writeIpv4Quoted(o, ipv4);
    f = false;
  } else {
    writeText(o, src ? T.source : T.destination);
    f = addressMember(o, r, src, true);
  }
  if (!icmp) f = numMember(o, K.port, src ? r.srcPort : r.dstPort, f);
  const mac = src ? r.srcMac : r.dstMac;
  if (mac !== undefined) f = macMember(o, mac, f);
  f = numMember(o, K.bytes, src ? r.bytes : r.reverseBytes, f);
  f = numMember(o, K.packets, src ? r.packets : r.reversePackets, f);
  const as = src ? r.srcAs : r.dstAs;
  if (as !== undefined) writeAs(o, K.as, as, f);
}

/** The exporter's `observer` text and the record's ingress and egress interfaces, left open. */
export function writeObserver(o: JsonOut, parts: ExporterParts, r: FlowRecord): void {
  writeText(o, parts.observer);
  let first = parts.observerEmpty;
  if (r.inInterface !== undefined) {
    writeInterface(o, K.ingress, r.inInterface, first);
    first = false;
  }
  if (r.outInterface !== undefined) writeInterface(o, K.egress, r.outInterface, first);
}

/**
 * The `network` object of a flow record, from its head to its `}`: transport, type,
 * bytes, packets (`bytes` and `packets` as the caller sums them), direction, the Community
 * ID when `communityId` (both addresses known) and the protocol is, and the VLANs.
 * Shared by writeFlow and the sFlow fast lane's writer.
 */
export function writeNetwork(
  o: JsonOut,
  r: FlowRecord,
  bytes: number | undefined,
  packets: number | undefined,
  communityId: boolean,
): void {
  let f = true;
  // The network head, transport and (IPv4) type as one constant when the protocol is a
  // number 0-255; otherwise piece by piece.
  const ipVersion = r.ipVersion;
  const head = r.protocol !== undefined ? networkText(r.protocol, ipVersion === 4) : undefined;
  if (head !== undefined) {
    writeText(o, head);
    f = false;
  } else {
    writeText(o, T.network);
    if (r.protocol !== undefined) {
      writeText(o, T.transport);
      writeString(o, transportName(r.protocol));
      writeText(o, T.ianaNumber);
      writeIdString(o, r.protocol);
      f = false;
    }
  }
  // An IPv4 type was written with the head.
  if (ipVersion !== undefined && !(head !== undefined && ipVersion === 4)) {
    if (ipVersion === 4) writeText(o, f ? T.ipv4First : T.ipv4Next);
    else {
      writeText(o, f ? K.type.first : K.type.next);
      writeString(o, `ipv${ipVersion}`);
    }
    f = false;
  }
  f = numMember(o, K.bytes, bytes, f);
  f = numMember(o, K.packets, packets, f);
  const d = r.direction;
  if (!f && (d === undefined || d === 'unknown')) writeText(o, T.directionUnknown);
  else if (!f && d === 'ingress') writeText(o, T.directionIngress);
  else if (!f && d === 'egress') writeText(o, T.directionEgress);
  else writeDirection(o, d, f);
  if (communityId && r.protocol !== undefined) {
    const at = o.pos;
    writeText(o, K.communityId.next);
    if (!writeCommunityId(o, r as CommunityIdInput)) o.pos = at;
  }
  if (r.vlan !== undefined) {
    writeText(o, K.vlan.next);
    writeText(o, T.idOpen);
    writeIdString(o, r.vlan);
    writeByte(o, 0x7d);
  }
  if (r.innerVlan !== undefined) {
    writeText(o, K.inner.next);
    writeText(o, T.innerVlan);
    writeIdString(o, r.innerVlan);
    writeByte(o, 0x7d);
    writeByte(o, 0x7d);
  }
  writeByte(o, 0x7d);
}

/**
 * `source`, `destination`, `network`, `icmp`, `related`, `sluice` of a flow record: from
 * the `}` that ends `observer` to the members of `sluice.scaled`, both left open (the
 * caller closes them with the head of `netflow`).
 */
function writeFlow(o: JsonOut, r: FlowRecord): void {
  const icmp = r.protocol === 1 || r.protocol === 58;
  const bytes = sum(r.bytes, r.reverseBytes);
  const packets = sum(r.packets, r.reversePackets);

  writeEndpoint(o, r, true, icmp);
  writeEndpoint(o, r, false, icmp);

  writeNetwork(o, r, bytes, packets, hasSrc(r) && hasDst(r));

  if (icmp && r.icmpType !== undefined) {
    writeText(o, T.icmp);
    numMember(o, K.code, r.icmpCode, numMember(o, K.type, r.icmpType, true));
    writeByte(o, 0x7d);
  }
  const src = hasSrc(r);
  const dst = hasDst(r);
  if (src || dst) {
    writeText(o, T.related);
    if (!src) writeDst(o, r);
    else {
      writeSrc(o, r);
      if (dst && !sameAddress(r)) {
        writeByte(o, 0x2c);
        writeDst(o, r);
      }
    }
  }
  writeSluice(o, r, src || dst, bytes, packets);
  // sluice.scaled and sluice end with netflow's head (T.flowEndNetflow), in writeDirect.
}

/**
 * `]}` closing `related` (when `related` was written) and `sluice` up to the members of
 * `sluice.scaled`, left open: the sampling rate and source, and the counts scaled by it.
 */
export function writeSluice(
  o: JsonOut,
  r: FlowRecord,
  related: boolean,
  bytes: number | undefined,
  packets: number | undefined,
): void {
  const rate = r.samplingRate;
  if (rate !== undefined) {
    writeText(o, related ? T.relatedEndSampling : T.sluiceSampling);
    member(o, K.source, r.samplingSource, member(o, K.rate, rate, true));
    writeText(o, T.samplingScaled);
  } else {
    writeText(o, related ? T.relatedEndScaled : T.sluiceScaled);
  }
  numMember(o, K.packets, scaled(packets, rate), numMember(o, K.bytes, scaled(bytes, rate), true));
}

/** `,"key":"<ISO time>"`, or nothing for no plausible date. */
function dateMember(o: JsonOut, k: Key, ms: number): void {
  const at = o.pos;
  writeText(o, k.next);
  if (!writeIsoQuoted(o, ms)) o.pos = at;
}

/** `"<k>":{"interface":{"id":"` as one constant, first in its object or after another. */
function interfaceHead(name: string): Key {
  const head = `"${name}":{"interface":{"id":"`;
  return { first: new Text(head), next: new Text(`,${head}`) };
}

const IFACE = { ingress: interfaceHead('ingress'), egress: interfaceHead('egress') } as const;
const ID_END = new Text('"}}');

export function writeInterface(o: JsonOut, k: Key, id: number, first: boolean): void {
  if (typeof id === 'number') {
    // The id as its `String(n)` digits between the constant head and `"}}`.
    const head = k === K.ingress ? IFACE.ingress : IFACE.egress;
    writeText(o, first ? head.first : head.next);
    writeNumberText(o, id);
    writeText(o, ID_END);
    return;
  }
  writeText(o, first ? k.first : k.next);
  writeText(o, T.interfaceId);
  writeIdString(o, id);
  writeByte(o, 0x7d);
  writeByte(o, 0x7d);
}

/** JSON text of sFlow extras, as serializeDocument writes them inside the document. */
function extraText(extra: Record<string, unknown>): string {
  // A toJSON of its own would be called with the key "sflow" inside the document.
  if (typeof extra.toJSON === 'function') throw UNUSUAL;
  try {
    return JSON.stringify(extra);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(extra, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

// ---------------------------------------------------------------------------------------
// Generated segments (document-compiled.ts): the value writers they call, and which
// records they write.

/** ASCII text at p, byte by byte (a number's rare text, at most 25 bytes). */
function asciiAt(view: DataView, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) view.setUint8(p + i, s.charCodeAt(i));
  return p + s.length;
}

/** writeNumber's text at p (room made for 32 bytes). */
function numAt(view: DataView, p: number, x: number): number {
  if (x >= 0 && x < 100_000_000 && (x | 0) === x) return digitsAt(view, p, x);
  if (x >= 0 && x <= 9_007_199_254_740_992 && Math.floor(x) === x) return uintAt(view, p, x);
  // writeNumberText's text for the rest (negative, fractional, past 2^53), null for NaN
  // and infinities.
  return asciiAt(view, p, x - x === 0 ? `${x}` : 'null');
}

/** writeNumberText's text at p (room made for 32 bytes). */
function numTextAt(view: DataView, p: number, x: number): number {
  if (x >= 0 && x <= 9_007_199_254_740_992 && Math.floor(x) === x) return uintAt(view, p, x);
  return asciiAt(view, p, `${x}`);
}

function strAt(o: JsonOut, p: number, s: string, rest: number): number {
  o.pos = p;
  writeString(o, s);
  o.reserve(rest);
  return o.pos;
}

function communityIdAt(o: JsonOut, p: number, r: FlowRecord, rest: number): number {
  o.pos = p;
  writeText(o, K.communityId.next);
  if (!writeCommunityId(o, r as CommunityIdInput)) o.pos = p;
  o.reserve(rest);
  return o.pos;
}

/** A `netflow.*` value as writeValueAt writes it (an IPv4 number aside). */
function valueAt(o: JsonOut, view: DataView, p: number, x: unknown, rest: number): number {
  if (typeof x === 'number') return numAt(view, p, x);
  o.pos = p;
  writeField(o, x as FieldValue, false);
  o.reserve(rest);
  return o.pos;
}

/** The same for a date element. */
function dateValueAt(o: JsonOut, view: DataView, p: number, x: unknown, rest: number): number {
  if (typeof x === 'number') {
    const q = isoAt(o.buf, view, p, x);
    return q >= 0 ? q : numAt(view, p, x);
  }
  o.pos = p;
  writeField(o, x as FieldValue, true);
  o.reserve(rest);
  return o.pos;
}

const SEGMENT_HELPERS: SegmentHelpers = {
  num: numAt,
  numText: numTextAt,
  ipv4: ipv4At,
  iso: isoAt,
  text: textAt,
  str: strAt,
  communityId: communityIdAt,
  value: valueAt,
  dateValue: dateValueAt,
  D4: DIGITS4,
  DL: DIGITS4_LENGTH,
  P4: PADDED4,
};

/**
 * The segments of each record shape seen (null: none could be made), at most
 * MAX_SHAPES; the last one found first (an exporter's records come in runs).
 */
const MAX_SHAPES = 1024;
const shapes = new Map<number, ShapeSegments | null>();
let lastShape = -1;
let lastSegments: ShapeSegments | undefined;

function segmentsOf(shape: number): ShapeSegments | undefined {
  if (shape === lastShape) return lastSegments;
  let s = shapes.get(shape);
  if (s === undefined) {
    if (shapes.size >= MAX_SHAPES) return undefined;
    s = shapeSegments(shape, SEGMENT_HELPERS) ?? null;
    shapes.set(shape, s);
  }
  lastShape = shape;
  lastSegments = s ?? undefined;
  return lastSegments;
}

type LayoutKeysOf = FieldsPlan & { readonly keys: readonly Text[] };

/**
 * Writes the document of a NetFlow/IPFIX flow record of a decoded layout (values and
 * layout set) with generated segments, once the layout is common (its `netflow.*`
 * writer was generated); false, with nothing written, when it cannot (the general
 * writer then writes the record).
 */
export function writeCompiledDocument(o: JsonOut, r: FlowRecord): boolean {
  const ex = r.exporter;
  const values = r.values;
  const layout = r.layout;
  if (ex.protocol !== 'netflow' || r.kind !== 'flow' || values === undefined) return false;
  if (layout === undefined) return false;
  const plan = fieldsPlans.getLayout(layout);
  if (plan.slow || plan.compiledValues === undefined || plan.keys === undefined) return false;
  let members = plan.segments;
  if (members === undefined) {
    members = membersSegments(plan as LayoutKeysOf, SEGMENT_HELPERS) ?? null;
    plan.segments = members;
  }
  if (members === null) return false;
  const parts = exporterParts(ex);
  if (!parts.compiled) return false;
  const shape = shapeOf(r, ex);
  if (shape < 0) return false;
  const segments = segmentsOf(shape);
  if (segments === undefined) return false;
  const net = networkText(r.protocol as number, r.ipVersion === 4);
  if (net === undefined || !net.simple) return false;
  const start = o.pos;
  const d = r.direction;
  const direction =
    d === 'ingress' ? T.directionIngress : d === 'egress' ? T.directionEgress : T.directionUnknown;
  let p = segments.head(o, r, ex, start, parts.observer, direction);
  if (p >= 0) p = segments.ends(o, r, ex, p, net, direction);
  if (p >= 0) p = segments.network(o, r, ex, p, net, direction);
  const ipv4s = layout.ipv4;
  for (let i = 0; i < members.length && p >= 0; i++) {
    p = (members[i] as MembersSegment)(o, values, ipv4s, p);
  }
  if (p >= 0) {
    p = segments.tail(o, r, ex, p, values.length > 0 ? parts.commaHead : parts.head, direction);
  }
  if (p < 0) {
    o.pos = start;
    return false;
  }
  o.pos = p;
  return true;
}

/** The `sflow` extras' JSON: by writeSflowExtra, or JSON.stringify for what it does not take. */
function writeExtras(o: JsonOut, extra: Record<string, unknown>): void {
  const at = o.pos;
  try {
    // The fast lane's extras (sflow-flow-extra.ts) write themselves, as their toJSON says.
    if (extra instanceof SflowFlowExtra && extra.toJSON === FLOW_EXTRA_TO_JSON) extra.write(o);
    else writeSflowExtra(o, extra);
  } catch (err) {
    if (!(err instanceof UnusualValue)) throw err;
    // Not plain data: JSON.stringify renders it (and raises what it raises).
    o.pos = at;
    writeRaw(o, extraText(extra));
  }
}

/**
 * Writes the document of a record; false (having written something partial, which the
 * caller discards) when it must be written the object route instead. Throws what the
 * object route throws (a RangeError when no time of the record is a date) and
 * UnusualValue for values that are not plain data.
 */
export function writeDirect(o: JsonOut, r: FlowRecord): boolean {
  if (writeCompiledDocument(o, r)) return true;
  // An sFlow fast-lane record: its addresses from their numbers and bytes.
  if (r instanceof SflowRecord && sflowPlain(r)) {
    writeSflowFlow(o, r, writeExtras);
    return true;
  }
  return writeGeneral(o, r);
}

/** writeDirect for any other record: the general writer. */
function writeGeneral(o: JsonOut, r: FlowRecord): boolean {
  const ex = r.exporter;
  const netflow = ex.protocol === 'netflow';
  let plan: FieldsPlan | undefined;
  const values = r.values;
  const layout = r.layout;
  if (netflow) {
    // A decoded record's values are read as they are; `fields` would make objects.
    plan =
      values !== undefined && layout !== undefined
        ? fieldsPlans.getLayout(layout)
        : fieldsPlans.get(r.fields);
    if (plan.slow) return false;
  }
  const kind = kindIndex(r.kind);
  const timestampMs = r.endMs ?? ex.exportTimeMs ?? r.receivedMs;
  const parts = exporterParts(ex);

  writeText(o, T.timestamp);
  if (!writeIsoQuoted(o, timestampMs)) writeString(o, new Date(r.receivedMs).toISOString());
  writeText(o, eventText(parts, kind));
  // The created key came with the event text: taken back when no date is written.
  if (!writeIsoQuoted(o, r.receivedMs)) o.pos -= CREATED.length;
  if (r.startMs !== undefined) dateMember(o, K.start, r.startMs);
  if (r.endMs !== undefined) {
    dateMember(o, K.end, r.endMs);
    if (r.startMs !== undefined) {
      writeText(o, K.duration.next);
      writeNumber(o, Math.round((r.endMs - r.startMs) * 1_000_000));
    }
  }
  writeObserver(o, parts, r);
  if (kind === 0) {
    // writeFlow writes the observer's end with its first text, and leaves sluice open.
    writeFlow(o, r);
    writeText(o, T.flowEndNetflow);
  } else {
    writeByte(o, 0x7d);
    writeText(o, T.netflow);
  }
  // After any `netflow.*` member, the exporter head comes with its comma.
  let comma = false;
  if (plan !== undefined && values !== undefined && layout !== undefined) {
    if (values.length > 0) {
      writeValues(o, values, layout.ipv4, plan);
      comma = true;
    }
  } else if (plan !== undefined && r.fields.length > 0) {
    writeFields(o, r.fields, plan);
    comma = true;
  }
  writeTail(o, parts, ex, kind, comma);
  if (!netflow && r.extra) {
    writeText(o, T.sflow);
    writeExtras(o, r.extra);
  }
  writeByte(o, 0x7d);
  return true;
}
