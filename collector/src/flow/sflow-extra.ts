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

/**
 * One value of the extras: the fixed-shape classes by their writers, plain data by the
 * generic writer (which raises UnusualValue for anything else).
 */
function writeExtraValue(o: JsonOut, v: unknown, depth: number): void {
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
