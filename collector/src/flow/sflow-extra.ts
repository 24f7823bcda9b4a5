// The fixed-shape members of an sFlow flow sample's `sflow.*` extras, as sealed class
// instances, and their JSON writers. JSON.stringify of the extras (then their UTF-8
// encoding) was about a quarter of an sFlow document's cost; these members are most of
// the extras' keys, and as classes their text can be written in constant runs.
//
// Exactness: JSON.stringify writes an instance's own enumerable members in the order the
// constructor makes them, as it does a plain object's. The instances are sealed (no
// member added or removed later), so the members are always these; their values may
// still be changed, and each writer checks their types and otherwise writes the members
// one by one the generic way (`writeJsonMembers`), leaving out what JSON leaves out.
import { UnusualValue } from './fast-json.js';
import {
  type JsonOut,
  Text,
  writeByte,
  writeString,
  writeText,
  writeTextNumber,
} from './json-out.js';
import { writeJsonMembers, writeJsonValue } from './json-value-writer.js';

const UNUSUAL = new UnusualValue('value needs JSON.stringify');

/** `sflow.sample.input` / `output`: an interface as the sample gives it. */
export class SflowPortDoc {
  format: unknown;
  value: unknown;
  constructor(format: string, value: number) {
    this.format = format;
    this.value = value;
    Object.seal(this);
  }
}

/** `sflow.sample`: the flow sample's own fields. */
export class SflowSampleDoc {
  sequence: unknown;
  source_id_type: unknown;
  source_id_index: unknown;
  sampling_rate: unknown;
  sample_pool: unknown;
  drops: unknown;
  input: unknown;
  output: unknown;
  expanded: unknown;
  constructor(
    sequence: number,
    sourceIdType: number,
    sourceIdIndex: number,
    samplingRate: number,
    samplePool: number,
    drops: number,
    input: SflowPortDoc,
    output: SflowPortDoc,
    expanded: boolean,
  ) {
    this.sequence = sequence;
    this.source_id_type = sourceIdType;
    this.source_id_index = sourceIdIndex;
    this.sampling_rate = samplingRate;
    this.sample_pool = samplePool;
    this.drops = drops;
    this.input = input;
    this.output = output;
    this.expanded = expanded;
    Object.seal(this);
  }
}

/** `sflow.header`: the sampled header record's facts (not its bytes). */
export class SflowHeaderDoc {
  protocol: unknown;
  frame_length: unknown;
  stripped: unknown;
  length: unknown;
  constructor(protocol: number, frameLength: number, stripped: number, length: number) {
    this.protocol = protocol;
    this.frame_length = frameLength;
    this.stripped = stripped;
    this.length = length;
    Object.seal(this);
  }
}

/** `sflow.switch`: the extended switch record. */
export class SflowSwitchDoc {
  src_vlan: unknown;
  src_priority: unknown;
  dst_vlan: unknown;
  dst_priority: unknown;
  constructor(srcVlan: number, srcPriority: number, dstVlan: number, dstPriority: number) {
    this.src_vlan = srcVlan;
    this.src_priority = srcPriority;
    this.dst_vlan = dstVlan;
    this.dst_priority = dstPriority;
    Object.seal(this);
  }
}

/** `sflow.router`: the extended router record (next_hop left out when unknown). */
export class SflowRouterDoc {
  next_hop: unknown;
  src_mask_len: unknown;
  dst_mask_len: unknown;
  constructor(nextHop: string | undefined, srcMaskLen: number, dstMaskLen: number) {
    this.next_hop = nextHop;
    this.src_mask_len = srcMaskLen;
    this.dst_mask_len = dstMaskLen;
    Object.seal(this);
  }
}

/** One AS path segment as the document has it: its ASes (the segment type left out). */
export interface SflowAsPathDoc {
  asns: number[];
}

/** `sflow.gateway`: the extended gateway record (next_hop left out when unknown). */
export class SflowGatewayDoc {
  next_hop: unknown;
  as: unknown;
  src_as: unknown;
  src_peer_as: unknown;
  as_path: unknown;
  communities: unknown;
  local_pref: unknown;
  constructor(
    nextHop: string | undefined,
    as: number,
    srcAs: number,
    srcPeerAs: number,
    asPath: SflowAsPathDoc[],
    communities: number[],
    localPref: number,
  ) {
    this.next_hop = nextHop;
    this.as = as;
    this.src_as = srcAs;
    this.src_peer_as = srcPeerAs;
    this.as_path = asPath;
    this.communities = communities;
    this.local_pref = localPref;
    Object.seal(this);
  }
}

const S = {
  sequence: new Text('{"sequence":'),
  sourceIdType: new Text(',"source_id_type":'),
  sourceIdIndex: new Text(',"source_id_index":'),
  samplingRate: new Text(',"sampling_rate":'),
  samplePool: new Text(',"sample_pool":'),
  drops: new Text(',"drops":'),
  input: new Text(',"input":{"format":'),
  output: new Text('},"output":{"format":'),
  value: new Text(',"value":'),
  expandedTrue: new Text('},"expanded":true}'),
  expandedFalse: new Text('},"expanded":false}'),
  protocol: new Text('{"protocol":'),
  frameLength: new Text(',"frame_length":'),
  stripped: new Text(',"stripped":'),
  length: new Text(',"length":'),
  srcVlan: new Text('{"src_vlan":'),
  srcPriority: new Text(',"src_priority":'),
  dstVlan: new Text(',"dst_vlan":'),
  dstPriority: new Text(',"dst_priority":'),
  nextHop: new Text('{"next_hop":'),
  srcMaskLen: new Text(',"src_mask_len":'),
  dstMaskLen: new Text(',"dst_mask_len":'),
  as: new Text(',"as":'),
  srcAs: new Text(',"src_as":'),
  srcPeerAs: new Text(',"src_peer_as":'),
  asPath: new Text(',"as_path":'),
  communities: new Text(',"communities":'),
  localPref: new Text(',"local_pref":'),
} as const;

const num = (v: unknown): v is number => typeof v === 'number';

function plainPort(p: unknown): p is SflowPortDoc {
  return p instanceof SflowPortDoc && typeof p.format === 'string' && num(p.value);
}

function writeSample(o: JsonOut, s: SflowSampleDoc, depth: number): void {
  const input = s.input;
  const output = s.output;
  if (
    !(
      num(s.sequence) &&
      num(s.source_id_type) &&
      num(s.source_id_index) &&
      num(s.sampling_rate) &&
      num(s.sample_pool) &&
      num(s.drops) &&
      plainPort(input) &&
      plainPort(output) &&
      typeof s.expanded === 'boolean'
    )
  ) {
    writeJsonMembers(o, s, depth, writeExtraValue);
    return;
  }
  writeTextNumber(o, S.sequence, s.sequence);
  writeTextNumber(o, S.sourceIdType, s.source_id_type);
  writeTextNumber(o, S.sourceIdIndex, s.source_id_index);
  writeTextNumber(o, S.samplingRate, s.sampling_rate);
  writeTextNumber(o, S.samplePool, s.sample_pool);
  writeTextNumber(o, S.drops, s.drops);
  writeText(o, S.input);
  writeString(o, input.format as string);
  writeTextNumber(o, S.value, input.value as number);
  writeText(o, S.output);
  writeString(o, output.format as string);
  writeTextNumber(o, S.value, output.value as number);
  writeText(o, s.expanded ? S.expandedTrue : S.expandedFalse);
}

function writeHeader(o: JsonOut, h: SflowHeaderDoc, depth: number): void {
  if (!(num(h.protocol) && num(h.frame_length) && num(h.stripped) && num(h.length))) {
    writeJsonMembers(o, h, depth, writeExtraValue);
    return;
  }
  writeTextNumber(o, S.protocol, h.protocol);
  writeTextNumber(o, S.frameLength, h.frame_length);
  writeTextNumber(o, S.stripped, h.stripped);
  writeTextNumber(o, S.length, h.length);
  writeByte(o, 0x7d);
}

function writeSwitch(o: JsonOut, w: SflowSwitchDoc, depth: number): void {
  if (!(num(w.src_vlan) && num(w.src_priority) && num(w.dst_vlan) && num(w.dst_priority))) {
    writeJsonMembers(o, w, depth, writeExtraValue);
    return;
  }
  writeTextNumber(o, S.srcVlan, w.src_vlan);
  writeTextNumber(o, S.srcPriority, w.src_priority);
  writeTextNumber(o, S.dstVlan, w.dst_vlan);
  writeTextNumber(o, S.dstPriority, w.dst_priority);
  writeByte(o, 0x7d);
}

function writeRouter(o: JsonOut, w: SflowRouterDoc, depth: number): void {
  if (!(typeof w.next_hop === 'string' && num(w.src_mask_len) && num(w.dst_mask_len))) {
    writeJsonMembers(o, w, depth, writeExtraValue);
    return;
  }
  writeText(o, S.nextHop);
  writeString(o, w.next_hop);
  writeTextNumber(o, S.srcMaskLen, w.src_mask_len);
  writeTextNumber(o, S.dstMaskLen, w.dst_mask_len);
  writeByte(o, 0x7d);
}

function writeGateway(o: JsonOut, g: SflowGatewayDoc, depth: number): void {
  const path = g.as_path;
  const communities = g.communities;
  if (
    !(
      typeof g.next_hop === 'string' &&
      num(g.as) &&
      num(g.src_as) &&
      num(g.src_peer_as) &&
      typeof path === 'object' &&
      path !== null &&
      typeof communities === 'object' &&
      communities !== null &&
      num(g.local_pref)
    )
  ) {
    writeJsonMembers(o, g, depth, writeExtraValue);
    return;
  }
  writeText(o, S.nextHop);
  writeString(o, g.next_hop);
  writeTextNumber(o, S.as, g.as);
  writeTextNumber(o, S.srcAs, g.src_as);
  writeTextNumber(o, S.srcPeerAs, g.src_peer_as);
  writeText(o, S.asPath);
  writeJsonValue(o, path, depth + 1);
  writeText(o, S.communities);
  writeJsonValue(o, communities, depth + 1);
  writeTextNumber(o, S.localPref, g.local_pref);
  writeByte(o, 0x7d);
}

/**
 * One value of the extras: the fixed-shape classes by their writers, plain data by the
 * generic writer (which raises UnusualValue for anything else).
 */
export function writeExtraValue(o: JsonOut, v: unknown, depth: number): void {
  if (typeof v === 'object' && v !== null) {
    // A toJSON on a class's prototype would change its text: the generic route's call.
    if (v instanceof SflowSampleDoc) {
      if ('toJSON' in v) throw UNUSUAL;
      writeSample(o, v, depth);
      return;
    }
    if (v instanceof SflowHeaderDoc) {
      if ('toJSON' in v) throw UNUSUAL;
      writeHeader(o, v, depth);
      return;
    }
    if (v instanceof SflowSwitchDoc) {
      if ('toJSON' in v) throw UNUSUAL;
      writeSwitch(o, v, depth);
      return;
    }
    if (v instanceof SflowRouterDoc) {
      if ('toJSON' in v) throw UNUSUAL;
      writeRouter(o, v, depth);
      return;
    }
    if (v instanceof SflowGatewayDoc) {
      if ('toJSON' in v) throw UNUSUAL;
      writeGateway(o, v, depth);
      return;
    }
    if (v instanceof SflowPortDoc) {
      if ('toJSON' in v) throw UNUSUAL;
      writeJsonMembers(o, v, depth, writeExtraValue);
      return;
    }
  }
  writeJsonValue(o, v, depth);
}

/**
 * The extras (a plain object) as JSON.stringify writes them, bigints as decimal strings.
 * Raises UnusualValue for what it does not render (the caller then stringifies).
 */
export function writeSflowExtra(o: JsonOut, extra: Record<string, unknown>): void {
  const proto: unknown = Object.getPrototypeOf(extra);
  if ((proto !== Object.prototype && proto !== null) || 'toJSON' in extra) throw UNUSUAL;
  writeJsonMembers(o, extra, 0, writeExtraValue);
}
