// The document of an sFlow flow record the fast lane made (SflowRecord, sflow-fast.ts),
// written as writeDirect writes any flow record, but with its addresses from their
// numbers and bytes: MACs from their two 24-bit halves, IPv6 addresses from their 16
// bytes (the RFC 5952 text written digit by digit), the Community ID hashed from the
// bytes; the text is never made. An sFlow sample has no start or end time, no reverse
// counters, no export time and no `netflow.*` elements: a record with any of these
// (someone set them) is left to writeDirect. Exactness: sflow-fast.test.ts and
// document-equivalence.test.ts hold these documents to the general path's text.
import { ipv6Words, isIpv4Mapped, longestZeroRun } from '../protocol/address.js';
import {
  CREATED,
  eventText,
  exporterParts,
  K,
  macMember,
  numMember,
  T,
  writeAs,
  writeNetwork,
  writeObserver,
  writeSluice,
  writeTail,
} from './document-writer.js';
import {
  type JsonOut,
  Text,
  writeByte,
  writeIpv4Quoted,
  writeIsoQuoted,
  writeString,
  writeText,
} from './json-out.js';
import type { SflowRecord } from './sflow-record.js';

/** Whether writeSflowFlow writes this record (else writeDirect's general route does). */
export function sflowPlain(r: SflowRecord): boolean {
  const ex = r.exporter;
  return (
    r.kind === 'flow' &&
    ex.protocol === 'sflow' &&
    ex.exportTimeMs === undefined &&
    r.startMs === undefined &&
    r.endMs === undefined &&
    r.reverseBytes === undefined &&
    r.reversePackets === undefined &&
    r.fields.length === 0 &&
    r.values === undefined &&
    r.layout === undefined &&
    typeof (r.srcTextOnly() ?? '') === 'string' &&
    typeof (r.dstTextOnly() ?? '') === 'string'
  );
}

const HEX_DIGITS = new TextEncoder().encode('0123456789abcdef');
const WORDS = new Uint16Array(8);

/** A 16-bit word's hex digits without leading zeros (as `w.toString(16)`). */
function hex16(b: Uint8Array, p: number, w: number): number {
  if (w >= 0x1000) b[p++] = HEX_DIGITS[w >>> 12] as number;
  if (w >= 0x100) b[p++] = HEX_DIGITS[(w >>> 8) & 15] as number;
  if (w >= 0x10) b[p++] = HEX_DIGITS[(w >>> 4) & 15] as number;
  b[p++] = HEX_DIGITS[w & 15] as number;
  return p;
}

/**
 * `"<IPv6 text>"` of the 16 bytes of `ip6` at `at`: the text ipv6ToString makes (RFC
 * 5952: lower case, leading zeros dropped, the first longest run of two or more zero
 * words as `::`, an IPv4-mapped address with its dotted tail), without making it.
 */
export function writeIpv6Quoted(o: JsonOut, ip6: Uint8Array, at: number): void {
  const words = WORDS;
  ipv6Words(ip6, at, words);
  o.reserve(48);
  if (isIpv4Mapped(words)) {
    writeText(o, MAPPED);
    // writeIpv4Quoted opens with a quote: written over the last ':' and put back.
    const colon = o.pos - 1;
    o.pos = colon;
    writeIpv4Quoted(o, (((words[6] as number) << 16) | (words[7] as number)) >>> 0);
    o.buf[colon] = 0x3a;
    return;
  }
  const run = longestZeroRun(words);
  const bestStart = run < 0 ? -1 : run >> 4;
  const bestLen = run & 15;
  const b = o.buf;
  let p = o.pos;
  b[p++] = 0x22;
  if (bestStart < 0) {
    for (let i = 0; i < 8; i++) {
      if (i > 0) b[p++] = 0x3a;
      p = hex16(b, p, words[i] as number);
    }
  } else {
    for (let i = 0; i < bestStart; i++) {
      if (i > 0) b[p++] = 0x3a;
      p = hex16(b, p, words[i] as number);
    }
    b[p++] = 0x3a;
    b[p++] = 0x3a;
    for (let i = bestStart + bestLen; i < 8; i++) {
      if (i > bestStart + bestLen) b[p++] = 0x3a;
      p = hex16(b, p, words[i] as number);
    }
  }
  b[p++] = 0x22;
  o.pos = p;
}

/** `"::ffff:`, the head of an IPv4-mapped address's text. */
const MAPPED = new Text('"::ffff:');

const HEX_UPPER = new TextEncoder().encode('0123456789ABCDEF');

/** `"AA-BB-CC-DD-EE-FF"`: a MAC as the document writes it, from its two 24-bit halves. */
function writeMacQuoted(o: JsonOut, hi: number, lo: number): void {
  o.reserve(20);
  const b = o.buf;
  let p = o.pos;
  b[p++] = 0x22;
  for (let i = 0; i < 6; i++) {
    const x = i < 3 ? (hi >>> (16 - 8 * i)) & 0xff : (lo >>> (16 - 8 * (i - 3))) & 0xff;
    if (i > 0) b[p++] = 0x2d;
    b[p++] = HEX_UPPER[x >>> 4] as number;
    b[p++] = HEX_UPPER[x & 15] as number;
  }
  b[p++] = 0x22;
  o.pos = p;
}

/** Whether the record has a source (src) or destination address, in any form. */
function hasAddress(r: SflowRecord, src: boolean): boolean {
  return src
    ? r.srcIpv4 !== undefined || r.srcIp6 || r.srcTextOnly() !== undefined
    : r.dstIpv4 !== undefined || r.dstIp6 || r.dstTextOnly() !== undefined;
}

/** The address's JSON value (there is one: hasAddress). */
function writeAddress(o: JsonOut, r: SflowRecord, src: boolean): void {
  const n = src ? r.srcIpv4 : r.dstIpv4;
  if (n !== undefined) writeIpv4Quoted(o, n);
  else if (src ? r.srcIp6 : r.dstIp6)
    writeIpv6Quoted(o, r.ip6 as Uint8Array, src ? r.ip6At : r.ip6At + 16);
  else writeString(o, (src ? r.srcTextOnly() : r.dstTextOnly()) as string);
}

/** Whether the two addresses are the same text (as writeFlow's sameAddress compares). */
function sameAddress(r: SflowRecord): boolean {
  if (r.srcIpv4 !== undefined && r.dstIpv4 !== undefined) return r.srcIpv4 === r.dstIpv4;
  if (r.srcIp6 && r.dstIp6) {
    const b = r.ip6 as Uint8Array;
    const at = r.ip6At;
    for (let i = at; i < at + 16; i++) if (b[i] !== b[16 + i]) return false;
    return true;
  }
  // Mixed forms: compare the text (made only here, a rare case).
  return r.dstAddr === r.srcAddr;
}

/** `source` or `destination`, from the `}` before it, left open (writeEndpoint's text). */
function writeEndpoint(o: JsonOut, r: SflowRecord, src: boolean, icmp: boolean): void {
  let f: boolean;
  if (hasAddress(r, src)) {
    writeText(o, src ? T.sourceIp : T.destinationIp);
    writeAddress(o, r, src);
    f = false;
  } else {
    writeText(o, src ? T.source : T.destination);
    f = true;
  }
  if (!icmp) f = numMember(o, K.port, src ? r.srcPort : r.dstPort, f);
  const hi = src ? r.srcMacHi : r.dstMacHi;
  if (hi >= 0) {
    writeText(o, f ? K.mac.first : K.mac.next);
    writeMacQuoted(o, hi, src ? r.srcMacLo : r.dstMacLo);
    f = false;
  } else {
    const mac = src ? r.srcMacTextOnly() : r.dstMacTextOnly();
    if (mac !== undefined) f = macMember(o, mac, f);
  }
  f = numMember(o, K.bytes, src ? r.bytes : undefined, f);
  f = numMember(o, K.packets, src ? r.packets : undefined, f);
  const as = src ? r.srcAs : r.dstAs;
  if (as !== undefined) writeAs(o, K.as, as, f);
}

/**
 * The document of an SflowRecord for which sflowPlain holds, as writeDirect writes it;
 * the `sflow` extras by writeExtras (writeDirect's, with its fallback).
 */
export function writeSflowFlow(
  o: JsonOut,
  r: SflowRecord,
  writeExtras: (o: JsonOut, extra: Record<string, unknown>) => void,
): void {
  const ex = r.exporter;
  const parts = exporterParts(ex);
  writeText(o, T.timestamp);
  if (!writeIsoQuoted(o, r.receivedMs)) writeString(o, new Date(r.receivedMs).toISOString());
  writeText(o, eventText(parts, 0));
  // The created key came with the event text: taken back when no date is written.
  if (!writeIsoQuoted(o, r.receivedMs)) o.pos -= CREATED.length;
  writeObserver(o, parts, r);

  const protocol = r.protocol;
  const icmp = protocol === 1 || protocol === 58;
  const bytes = r.bytes;
  const packets = r.packets;
  writeEndpoint(o, r, true, icmp);
  writeEndpoint(o, r, false, icmp);

  const src = hasAddress(r, true);
  const dst = hasAddress(r, false);
  writeNetwork(o, r, bytes, packets, src && dst);

  if (icmp && r.icmpType !== undefined) {
    writeText(o, T.icmp);
    numMember(o, K.code, r.icmpCode, numMember(o, K.type, r.icmpType, true));
    writeByte(o, 0x7d);
  }
  if (src || dst) {
    writeText(o, T.related);
    if (!src) writeAddress(o, r, false);
    else {
      writeAddress(o, r, true);
      if (dst && !sameAddress(r)) {
        writeByte(o, 0x2c);
        writeAddress(o, r, false);
      }
    }
  }
  writeSluice(o, r, src || dst, bytes, packets);
  writeText(o, T.flowEndNetflow);
  writeTail(o, parts, ex, 0, false);
  if (r.extra) {
    writeText(o, T.sflow);
    writeExtras(o, r.extra);
  }
  writeByte(o, 0x7d);
}
