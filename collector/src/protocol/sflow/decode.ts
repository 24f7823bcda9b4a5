import { ipv4ToString, ipv6ToString, macToString } from '../address.js';
import { DecodeError } from '../errors.js';
import type { FirstLayer, PacketHeaders } from '../packet/headers.js';
import { parsePacket } from '../packet/parse.js';
import { Reader } from '../reader.js';
import type {
  SflowAsPathSegment,
  SflowCounterRecord,
  SflowCounterSample,
  SflowDatagram,
  SflowExtendedGatewayRecord,
  SflowFlowRecord,
  SflowFlowSample,
  SflowInterfaceFormat,
  SflowIssue,
  SflowRawHeaderRecord,
  SflowRawRecord,
  SflowRawSample,
  SflowResult,
  SflowSample,
} from './types.js';

/*
 * Formats (facts, with their sources):
 * - sFlow v5: "sFlow Version 5" (sflow.org/sflow_version_5.txt, SFLOW-DATAGRAM5): XDR,
 *   big-endian 32-bit words; datagram = version, agent address (type 0 unknown / 1 IPv4 /
 *   2 IPv6), sub-agent id, sequence number, uptime (ms), samples<>; every sample and
 *   every record is (enterprise << 12 | format, length, body), so unknown ones can be
 *   skipped. Samples: 1 flow, 2 counters, 3 expanded flow, 4 expanded counters. Flow
 *   records: 1 sampled header, 2 Ethernet, 3 IPv4, 4 IPv6, 1001 switch, 1002 router, 1003
 *   gateway. Counter records: 1 generic interface, 2 Ethernet, 5 VLAN, 1001 processor.
 *   Compact source id: type in the top 8 bits, index in 24; compact interface: format in
 *   the top 2 bits (0 ifIndex, 1 discarded, 2 multiple), value in 30.
 * - sFlow v2/v4: RFC 3176 section 5 (v4; v2 differs in the gateway record: a plain AS
 *   list, no communities or local preference). No lengths: an unknown sample or record
 *   type ends decoding of the datagram. Flow sample = header + packet data type (1 header,
 *   2 IPv4, 3 IPv6) + extended data<> (1 switch, 2 router, 3 gateway, 4 user, 5 URL);
 *   counters sample = header + counters type (1 generic, 2 Ethernet, 3 token ring, 4 FDDI,
 *   5 100BaseVG, 6 WAN, 7 VLAN), the generic block first for types 1-6.
 */

export interface SflowOptions {
  /** Decode sampled packet headers with `parsePacket` (default true). */
  decodeHeaders?: boolean;
}

/** sFlow header_protocol values that `parsePacket` decodes. */
export function firstLayer(headerProtocol: number): FirstLayer | undefined {
  switch (headerProtocol) {
    case 1:
      return 'ethernet';
    case 11:
      return 'ipv4';
    case 12:
      return 'ipv6';
    case 13:
      return 'mpls';
    default:
      return undefined;
  }
}

class Ctx {
  readonly errors: SflowIssue[] = [];
  sample: number | undefined = undefined;
  unknownSamples = 0;
  unknownRecords = 0;
  constructor(
    readonly version: number,
    readonly decodeHeaders: boolean,
  ) {}

  issue(e: unknown): SflowIssue {
    const issue: SflowIssue =
      e instanceof DecodeError
        ? { reason: e.reason, message: e.message, offset: e.offset, sample: this.sample }
        : {
            reason: 'bad_length',
            message: `internal: ${e instanceof Error ? e.message : String(e)}`,
            offset: undefined,
            sample: this.sample,
          };
    this.errors.push(issue);
    return issue;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes one sFlow datagram (v5, v4 or v2). Never throws: see `SflowResult`. Byte
 * arrays in the result (`header`, `raw`) are views into `datagram`.
 */
export function decodeSflow(datagram: Uint8Array, options?: SflowOptions): SflowResult {
  let r: Reader;
  let dg: SflowDatagram;
  let ctx: Ctx;
  try {
    r = new Reader(datagram);
    const version = r.u32('version');
    if (version !== 2 && version !== 4 && version !== 5) {
      throw new DecodeError('unknown_version', `sFlow version ${version}`, 0);
    }
    ctx = new Ctx(version, options?.decodeHeaders ?? true);
    const agentAddressType = r.u32('agent address type');
    const agentAddress = address(r, agentAddressType, 'agent address');
    const subAgentId = version === 5 ? r.u32('sub-agent id') : 0;
    dg = {
      version,
      agentAddressType,
      agentAddress,
      subAgentId,
      sequenceNumber: r.u32('sequence number'),
      uptimeMs: r.u32('uptime'),
      sampleCount: r.u32('sample count'),
      samples: [],
      unknownSamples: 0,
      unknownRecords: 0,
    };
  } catch (e) {
    const issue = new Ctx(0, false).issue(e);
    return { ok: false, datagram: undefined, errors: [issue] };
  }
  if (dg.version === 5) samplesV5(ctx, r, dg);
  else samplesV24(ctx, r, dg);
  dg.unknownSamples = ctx.unknownSamples;
  dg.unknownRecords = ctx.unknownRecords;
  return { ok: true, datagram: dg, errors: ctx.errors };
}

function address(r: Reader, type: number, what: string): string | undefined {
  switch (type) {
    case 0:
      return undefined;
    case 1: {
      r.need(4, what);
      const s = ipv4ToString(r.buf, r.pos);
      r.pos += 4;
      return s;
    }
    case 2: {
      r.need(16, what);
      const s = ipv6ToString(r.buf, r.pos);
      r.pos += 16;
      return s;
    }
    default:
      throw new DecodeError('unknown_format', `${what}: address type ${type}`, r.pos - 4);
  }
}

/** Throws unless `count` items of at least `size` bytes can fit in what is left. */
function fits(r: Reader, count: number, size: number, what: string): void {
  if (count * size > r.remaining) {
    throw new DecodeError(
      'count_overflow',
      `${what}: ${count} entries cannot fit in ${r.remaining} bytes`,
      r.pos,
    );
  }
}

function countOverflow(ctx: Ctx, what: string, declared: number, found: number, pos: number) {
  ctx.issue(
    new DecodeError('count_overflow', `${what}: ${declared} declared, ${found} present`, pos),
  );
}

/**
 * The name of an sFlow v5 interface value's format: the top two bits of a flow sample's
 * input or output (a field of its own in an expanded sample).
 */
export function interfaceFormat(format: number): SflowInterfaceFormat {
  switch (format) {
    case 0:
      return 'single';
    case 1:
      return 'discard';
    case 2:
      return 'multiple';
    default:
      return 'unknown';
  }
}

// --- sFlow v5 -----------------------------------------------------------------------

function samplesV5(ctx: Ctx, r: Reader, dg: SflowDatagram): void {
  const count = dg.sampleCount;
  let i = 0;
  for (; i < count; i++) {
    ctx.sample = i;
    if (r.remaining === 0) {
      countOverflow(ctx, 'samples', count, i, r.pos);
      return;
    }
    let dataFormat: number;
    let body: Reader;
    try {
      dataFormat = r.u32('sample type');
      const length = r.u32('sample length');
      body = r.sub(length, 'sample');
    } catch (e) {
      ctx.issue(e); // framing lost: the samples after this one cannot be found
      return;
    }
    dg.samples.push(sampleV5(ctx, dataFormat >>> 12, dataFormat & 0xfff, body));
  }
  ctx.sample = undefined;
  if (r.remaining > 0) {
    ctx.issue(
      new DecodeError('bad_length', `${r.remaining} bytes after the last of ${i} samples`, r.pos),
    );
  }
}

function sampleV5(ctx: Ctx, enterprise: number, format: number, r: Reader): SflowSample {
  const start = r.pos;
  try {
    if (enterprise === 0) {
      switch (format) {
        case 1:
          return flowSampleV5(ctx, r, false);
        case 2:
          return counterSampleV5(ctx, r, false);
        case 3:
          return flowSampleV5(ctx, r, true);
        case 4:
          return counterSampleV5(ctx, r, true);
      }
    }
    ctx.unknownSamples++;
    return rawSample(enterprise, format, r.buf.subarray(start, r.end), undefined);
  } catch (e) {
    return rawSample(enterprise, format, r.buf.subarray(start, r.end), ctx.issue(e));
  }
}

function rawSample(
  enterprise: number,
  format: number,
  raw: Uint8Array,
  error: SflowIssue | undefined,
): SflowRawSample {
  return { kind: 'raw', enterprise, format, raw, error };
}

function rawRecord(
  enterprise: number,
  format: number,
  raw: Uint8Array,
  error: SflowIssue | undefined,
): SflowRawRecord {
  return { type: 'raw', enterprise, format, raw, error };
}

function flowSampleV5(ctx: Ctx, r: Reader, expanded: boolean): SflowFlowSample {
  const sequenceNumber = r.u32('flow sample sequence number');
  const [sourceIdType, sourceIdIndex] = sourceId(r, expanded);
  const samplingRate = r.u32('sampling rate');
  const samplePool = r.u32('sample pool');
  const drops = r.u32('drops');
  let inFormat: number;
  let inputValue: number;
  let outFormat: number;
  let outputValue: number;
  if (expanded) {
    inFormat = r.u32('input format');
    inputValue = r.u32('input value');
    outFormat = r.u32('output format');
    outputValue = r.u32('output value');
  } else {
    const input = r.u32('input');
    const output = r.u32('output');
    inFormat = input >>> 30;
    inputValue = input & 0x3fffffff;
    outFormat = output >>> 30;
    outputValue = output & 0x3fffffff;
  }
  const recordCount = r.u32('flow record count');
  const sample: SflowFlowSample = {
    kind: 'flow',
    enterprise: 0,
    format: expanded ? 3 : 1,
    expanded,
    sequenceNumber,
    sourceIdType,
    sourceIdIndex,
    samplingRate,
    samplePool,
    drops,
    inputFormat: interfaceFormat(inFormat),
    inputValue,
    outputFormat: interfaceFormat(outFormat),
    outputValue,
    recordCount,
    records: [],
  };
  readRecords(ctx, r, recordCount, 'flow', flowRecordV5, sample.records);
  return sample;
}

/** Source id of a v5 sample: compact (type in the top 8 bits, index in 24) or expanded. */
function sourceId(r: Reader, expanded: boolean): [type: number, index: number] {
  if (expanded) return [r.u32('source id type'), r.u32('source id index')];
  const sid = r.u32('source id');
  return [sid >>> 24, sid & 0xffffff];
}

/**
 * The length-framed records of a v5 sample: each one decoded from its own bounded
 * reader, so a bad record cannot read into the next. Stops (counted) when the declared
 * count runs past the sample or a record header is cut.
 */
function readRecords<T>(
  ctx: Ctx,
  r: Reader,
  count: number,
  kind: 'flow' | 'counter',
  decode: (ctx: Ctx, enterprise: number, format: number, body: Reader) => T,
  out: T[],
): void {
  for (let j = 0; j < count; j++) {
    if (r.remaining === 0) {
      countOverflow(ctx, `${kind} records`, count, j, r.pos);
      return;
    }
    let dataFormat: number;
    let body: Reader;
    try {
      dataFormat = r.u32(`${kind} record format`);
      const length = r.u32(`${kind} record length`);
      body = r.sub(length, `${kind} record`);
    } catch (e) {
      ctx.issue(e);
      return;
    }
    out.push(decode(ctx, dataFormat >>> 12, dataFormat & 0xfff, body));
  }
}

function flowRecordV5(ctx: Ctx, enterprise: number, format: number, r: Reader): SflowFlowRecord {
  const start = r.pos;
  try {
    if (enterprise === 0) {
      switch (format) {
        case 1:
          return sampledHeader(ctx, r, true);
        case 2:
          return ethernetFrame(r);
        case 3:
          return sampledIpv4(r);
        case 4:
          return sampledIpv6(r);
        case 1001:
          return extendedSwitch(r);
        case 1002:
          return extendedRouter(r);
        case 1003:
          return extendedGateway(ctx, r);
      }
    }
    ctx.unknownRecords++;
    return rawRecord(enterprise, format, r.buf.subarray(start, r.end), undefined);
  } catch (e) {
    return rawRecord(enterprise, format, r.buf.subarray(start, r.end), ctx.issue(e));
  }
}

function counterSampleV5(ctx: Ctx, r: Reader, expanded: boolean): SflowCounterSample {
  const sequenceNumber = r.u32('counter sample sequence number');
  const [sourceIdType, sourceIdIndex] = sourceId(r, expanded);
  const recordCount = r.u32('counter record count');
  const sample: SflowCounterSample = {
    kind: 'counters',
    enterprise: 0,
    format: expanded ? 4 : 2,
    expanded,
    sequenceNumber,
    sourceIdType,
    sourceIdIndex,
    samplingInterval: undefined,
    countersType: undefined,
    recordCount,
    records: [],
  };
  readRecords(ctx, r, recordCount, 'counter', counterRecordV5, sample.records);
  return sample;
}

/**
 * One v5 counter sample, its body being bytes `start` to `end` of `datagram`, as
 * decodeSflow decodes it within a datagram; undefined where decodeSflow would report an
 * issue for it (the caller then decodes the datagram with decodeSflow).
 */
export function decodeCounterSampleV5(
  datagram: Uint8Array,
  start: number,
  end: number,
  expanded: boolean,
): SflowCounterSample | undefined {
  const ctx = new Ctx(5, false);
  let sample: SflowCounterSample;
  try {
    sample = counterSampleV5(ctx, new Reader(datagram, start, end), expanded);
  } catch {
    return undefined;
  }
  return ctx.errors.length === 0 ? sample : undefined;
}

function counterRecordV5(
  ctx: Ctx,
  enterprise: number,
  format: number,
  r: Reader,
): SflowCounterRecord {
  const start = r.pos;
  try {
    if (enterprise === 0) {
      switch (format) {
        case 1:
          return genericInterface(r);
        case 2:
          return ethernetInterface(r);
        case 5:
          return vlanCounters(r);
        case 1001:
          return processor(r);
      }
    }
    ctx.unknownRecords++;
    return rawRecord(enterprise, format, r.buf.subarray(start, r.end), undefined);
  } catch (e) {
    return rawRecord(enterprise, format, r.buf.subarray(start, r.end), ctx.issue(e));
  }
}

// --- flow records (shared by v5 and v2/v4) --------------------------------------------

function sampledHeader(ctx: Ctx, r: Reader, v5: boolean): SflowRawHeaderRecord {
  const headerProtocol = r.u32('header protocol');
  const frameLength = r.u32('frame length');
  const stripped = v5 ? r.u32('stripped') : 0;
  const length = r.u32('header length');
  const header = r.bytes(length, 'sampled header');
  const pad = (4 - (length & 3)) & 3;
  // v5 records are length-delimited: tolerate a missing final pad; v2/v4 need it to go on.
  if (v5) r.pos += Math.min(pad, r.remaining);
  else r.skip(pad, 'sampled header padding');
  let packet: PacketHeaders | undefined;
  if (ctx.decodeHeaders) {
    const layer = firstLayer(headerProtocol);
    if (layer !== undefined) packet = parsePacket(header, layer);
  }
  return {
    type: 'raw_header',
    enterprise: 0,
    format: 1,
    headerProtocol,
    frameLength,
    stripped,
    header,
    packet,
  };
}

function ethernetFrame(r: Reader): SflowFlowRecord {
  const length = r.u32('ethernet length');
  r.need(20, 'ethernet addresses and type');
  // XDR opaque mac[6] takes 8 bytes (padded).
  const srcMac = macToString(r.buf, r.pos);
  const dstMac = macToString(r.buf, r.pos + 8);
  r.pos += 16;
  const etherType = r.u32('ethernet type');
  return { type: 'ethernet_frame', enterprise: 0, format: 2, length, srcMac, dstMac, etherType };
}

function sampledIpv4(r: Reader): SflowFlowRecord {
  const length = r.u32('ip length');
  const protocol = r.u32('ip protocol');
  r.need(8, 'ipv4 addresses');
  const srcAddr = ipv4ToString(r.buf, r.pos);
  const dstAddr = ipv4ToString(r.buf, r.pos + 4);
  r.pos += 8;
  return {
    type: 'ipv4',
    enterprise: 0,
    format: 3,
    length,
    protocol,
    srcAddr,
    dstAddr,
    srcPort: r.u32('src port'),
    dstPort: r.u32('dst port'),
    tcpFlags: r.u32('tcp flags'),
    tos: r.u32('tos'),
  };
}

function sampledIpv6(r: Reader): SflowFlowRecord {
  const length = r.u32('ip length');
  const protocol = r.u32('ip protocol');
  r.need(32, 'ipv6 addresses');
  const srcAddr = ipv6ToString(r.buf, r.pos);
  const dstAddr = ipv6ToString(r.buf, r.pos + 16);
  r.pos += 32;
  return {
    type: 'ipv6',
    enterprise: 0,
    format: 4,
    length,
    protocol,
    srcAddr,
    dstAddr,
    srcPort: r.u32('src port'),
    dstPort: r.u32('dst port'),
    tcpFlags: r.u32('tcp flags'),
    priority: r.u32('priority'),
  };
}

function extendedSwitch(r: Reader): SflowFlowRecord {
  return {
    type: 'extended_switch',
    enterprise: 0,
    format: 1001,
    srcVlan: r.u32('src vlan'),
    srcPriority: r.u32('src priority'),
    dstVlan: r.u32('dst vlan'),
    dstPriority: r.u32('dst priority'),
  };
}

function extendedRouter(r: Reader): SflowFlowRecord {
  const nextHop = address(r, r.u32('next hop type'), 'next hop');
  return {
    type: 'extended_router',
    enterprise: 0,
    format: 1002,
    nextHop,
    srcMaskLen: r.u32('src mask'),
    dstMaskLen: r.u32('dst mask'),
  };
}

function extendedGateway(ctx: Ctx, r: Reader): SflowExtendedGatewayRecord {
  const version = ctx.version;
  const nextHop = version === 5 ? address(r, r.u32('next hop type'), 'next hop') : undefined;
  const as = r.u32('as');
  const srcAs = r.u32('src as');
  const srcPeerAs = r.u32('src peer as');
  const asPath: SflowAsPathSegment[] = [];
  const segments = r.u32('as path length');
  if (version === 2) {
    // v2: a plain list of ASes.
    fits(r, segments, 4, 'as path');
    const asns: number[] = [];
    for (let i = 0; i < segments; i++) asns.push(r.u32('as'));
    asPath.push({ type: 2, asns });
  } else {
    fits(r, segments, 8, 'as path segments');
    for (let i = 0; i < segments; i++) {
      const type = r.u32('as path segment type');
      const n = r.u32('as path segment length');
      fits(r, n, 4, 'as path segment');
      const asns: number[] = [];
      for (let j = 0; j < n; j++) asns.push(r.u32('as'));
      asPath.push({ type, asns });
    }
  }
  const communities: number[] = [];
  let localPref = 0;
  if (version !== 2) {
    const n = r.u32('communities length');
    fits(r, n, 4, 'communities');
    for (let i = 0; i < n; i++) communities.push(r.u32('community'));
    localPref = r.u32('local pref');
  }
  return {
    type: 'extended_gateway',
    enterprise: 0,
    format: 1003,
    nextHop,
    as,
    srcAs,
    srcPeerAs,
    asPath,
    communities,
    localPref,
  };
}

/** XDR string<>: length, bytes, padding to 4. */
function xdrString(r: Reader, what: string): string {
  const n = r.u32(what);
  const s = utf8.decode(r.bytes(n, what));
  r.skip((4 - (n & 3)) & 3, what);
  return s;
}

// --- counter records ------------------------------------------------------------------

function genericInterface(r: Reader): SflowCounterRecord {
  return {
    type: 'generic_interface',
    enterprise: 0,
    format: 1,
    ifIndex: r.u32('ifIndex'),
    ifType: r.u32('ifType'),
    ifSpeed: r.u64('ifSpeed'),
    ifDirection: r.u32('ifDirection'),
    ifStatus: r.u32('ifStatus'),
    ifInOctets: r.u64('ifInOctets'),
    ifInUcastPkts: r.u32('ifInUcastPkts'),
    ifInMulticastPkts: r.u32('ifInMulticastPkts'),
    ifInBroadcastPkts: r.u32('ifInBroadcastPkts'),
    ifInDiscards: r.u32('ifInDiscards'),
    ifInErrors: r.u32('ifInErrors'),
    ifInUnknownProtos: r.u32('ifInUnknownProtos'),
    ifOutOctets: r.u64('ifOutOctets'),
    ifOutUcastPkts: r.u32('ifOutUcastPkts'),
    ifOutMulticastPkts: r.u32('ifOutMulticastPkts'),
    ifOutBroadcastPkts: r.u32('ifOutBroadcastPkts'),
    ifOutDiscards: r.u32('ifOutDiscards'),
    ifOutErrors: r.u32('ifOutErrors'),
    ifPromiscuousMode: r.u32('ifPromiscuousMode'),
  };
}

function ethernetInterface(r: Reader): SflowCounterRecord {
  return {
    type: 'ethernet_interface',
    enterprise: 0,
    format: 2,
    dot3StatsAlignmentErrors: r.u32('dot3StatsAlignmentErrors'),
    dot3StatsFCSErrors: r.u32('dot3StatsFCSErrors'),
    dot3StatsSingleCollisionFrames: r.u32('dot3StatsSingleCollisionFrames'),
    dot3StatsMultipleCollisionFrames: r.u32('dot3StatsMultipleCollisionFrames'),
    dot3StatsSQETestErrors: r.u32('dot3StatsSQETestErrors'),
    dot3StatsDeferredTransmissions: r.u32('dot3StatsDeferredTransmissions'),
    dot3StatsLateCollisions: r.u32('dot3StatsLateCollisions'),
    dot3StatsExcessiveCollisions: r.u32('dot3StatsExcessiveCollisions'),
    dot3StatsInternalMacTransmitErrors: r.u32('dot3StatsInternalMacTransmitErrors'),
    dot3StatsCarrierSenseErrors: r.u32('dot3StatsCarrierSenseErrors'),
    dot3StatsFrameTooLongs: r.u32('dot3StatsFrameTooLongs'),
    dot3StatsInternalMacReceiveErrors: r.u32('dot3StatsInternalMacReceiveErrors'),
    dot3StatsSymbolErrors: r.u32('dot3StatsSymbolErrors'),
  };
}

function vlanCounters(r: Reader): SflowCounterRecord {
  return {
    type: 'vlan',
    enterprise: 0,
    format: 5,
    vlanId: r.u32('vlan id'),
    octets: r.u64('octets'),
    ucastPkts: r.u32('ucastPkts'),
    multicastPkts: r.u32('multicastPkts'),
    broadcastPkts: r.u32('broadcastPkts'),
    discards: r.u32('discards'),
  };
}

function processor(r: Reader): SflowCounterRecord {
  return {
    type: 'processor',
    enterprise: 0,
    format: 1001,
    cpu5s: r.u32('5s cpu'),
    cpu1m: r.u32('1m cpu'),
    cpu5m: r.u32('5m cpu'),
    totalMemory: r.u64('total memory'),
    freeMemory: r.u64('free memory'),
  };
}

// --- sFlow v2 / v4 (RFC 3176) ------------------------------------------------------------

function samplesV24(ctx: Ctx, r: Reader, dg: SflowDatagram): void {
  const count = dg.sampleCount;
  let i = 0;
  for (; i < count; i++) {
    ctx.sample = i;
    if (r.remaining === 0) {
      countOverflow(ctx, 'samples', count, i, r.pos);
      return;
    }
    const start = r.pos;
    let type = 0;
    try {
      type = r.u32('sample type');
      if (type === 1) dg.samples.push(flowSampleV24(ctx, r));
      else if (type === 2) dg.samples.push(counterSampleV24(r));
      else {
        ctx.unknownSamples++;
        throw new DecodeError(
          'unknown_format',
          `v${ctx.version} sample type ${type}: without a length it cannot be skipped`,
          start,
        );
      }
    } catch (e) {
      // No lengths in v2/v4: what follows cannot be framed. Keep it raw.
      dg.samples.push(rawSample(0, type, r.buf.subarray(start, r.end), ctx.issue(e)));
      return;
    }
  }
  ctx.sample = undefined;
  if (r.remaining > 0) {
    ctx.issue(
      new DecodeError('bad_length', `${r.remaining} bytes after the last of ${i} samples`, r.pos),
    );
  }
}

function flowSampleV24(ctx: Ctx, r: Reader): SflowFlowSample {
  const sequenceNumber = r.u32('flow sample sequence number');
  const sid = r.u32('source id');
  const samplingRate = r.u32('sampling rate');
  const samplePool = r.u32('sample pool');
  const drops = r.u32('drops');
  const input = r.u32('input');
  const output = r.u32('output');
  const records: SflowFlowRecord[] = [];
  const packetType = r.u32('packet data type');
  switch (packetType) {
    case 1:
      records.push(sampledHeader(ctx, r, false));
      break;
    case 2:
      records.push(sampledIpv4(r));
      break;
    case 3:
      records.push(sampledIpv6(r));
      break;
    default:
      throw new DecodeError('unknown_format', `packet data type ${packetType}`, r.pos - 4);
  }
  const extended = r.u32('extended data count');
  fits(r, extended, 4, 'extended data');
  for (let j = 0; j < extended; j++) {
    const type = r.u32('extended data type');
    switch (type) {
      case 1:
        records.push(extendedSwitch(r));
        break;
      case 2:
        records.push(extendedRouter(r));
        break;
      case 3:
        records.push(extendedGateway(ctx, r));
        break;
      case 4:
        records.push({
          type: 'extended_user',
          enterprise: 0,
          format: 1004,
          srcUser: xdrString(r, 'src user'),
          dstUser: xdrString(r, 'dst user'),
        });
        break;
      case 5: {
        const direction = r.u32('url direction');
        records.push({
          type: 'extended_url',
          enterprise: 0,
          format: 1005,
          direction,
          url: xdrString(r, 'url'),
        });
        break;
      }
      default:
        ctx.unknownRecords++;
        throw new DecodeError('unknown_format', `extended data type ${type}`, r.pos - 4);
    }
  }
  return {
    kind: 'flow',
    enterprise: 0,
    format: 1,
    expanded: false,
    sequenceNumber,
    sourceIdType: sid >>> 24,
    sourceIdIndex: sid & 0xffffff,
    samplingRate,
    samplePool,
    drops,
    inputFormat: 'single',
    inputValue: input,
    outputFormat: output >>> 31 === 1 ? 'multiple' : 'single',
    outputValue: output & 0x7fffffff,
    recordCount: 1 + extended,
    records,
  };
}

function counterSampleV24(r: Reader): SflowCounterSample {
  const sequenceNumber = r.u32('counter sample sequence number');
  const sid = r.u32('source id');
  const samplingInterval = r.u32('sampling interval');
  const countersType = r.u32('counters type');
  const records: SflowCounterRecord[] = [];
  if (countersType >= 1 && countersType <= 6) records.push(genericInterface(r));
  switch (countersType) {
    case 1: // generic
    case 4: // FDDI: generic only
    case 6: // WAN: generic only
      break;
    case 2:
      records.push(ethernetInterface(r));
      break;
    case 3: // token ring: 18 counters, kept raw as v5's format 3
      records.push(rawRecord(0, 3, r.bytes(72, 'token ring counters'), undefined));
      break;
    case 5: // 100BaseVG: kept raw as v5's format 4
      records.push(rawRecord(0, 4, r.bytes(80, '100BaseVG counters'), undefined));
      break;
    case 7:
      records.push(vlanCounters(r));
      break;
    default:
      throw new DecodeError('unknown_format', `counters type ${countersType}`, r.pos - 4);
  }
  return {
    kind: 'counters',
    enterprise: 0,
    format: 2,
    expanded: false,
    sequenceNumber,
    sourceIdType: sid >>> 24,
    sourceIdIndex: sid & 0xffffff,
    samplingInterval,
    countersType,
    recordCount: records.length,
    records,
  };
}
