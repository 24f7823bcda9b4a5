// The `sflow` extras of a flow sample the fast lane made (sflow-fast.ts): one object
// holding the sample's numbers, not the general producer's plain object of sealed
// member objects (a sample, two ports, a header, a switch, a router: each an allocation
// and an Object.seal, which cost more than writing them). Its JSON is what its toJSON
// returns, the general producer's object for the same sample, member for member and in
// the same order; the writer (`write`) writes that text straight from the numbers.
//
// The order: `sample`, then each group of members in the order the sample's records
// came (`came`: the sampled header's group, `switch`, `router`, `gateway`; agents
// differ, hsflowd sends the switch record first), then any group set without its record.
//
// The members are still there to read and to set: `sample`, `header`, `switch` and
// `router` are accessors that make their object (the general producer's class) on first
// read and keep it; from then on, or once set, that object is what toJSON and the
// writer use (the writer by the general writers, which check its values). The other
// members are plain fields. As toJSON decides the JSON, members added to an instance
// are not part of it (the writer agrees: it follows toJSON, whose own replacement it
// checks for).
import type { JsonOut } from './json-out.js';
import { Text, writeByte, writeString, writeText, writeTextNumber } from './json-out.js';
import {
  SflowHeaderDoc,
  SflowPortDoc,
  SflowRouterDoc,
  SflowSampleDoc,
  SflowSwitchDoc,
  writeExtraValue,
} from './sflow-extra.js';

export const EXTRA_HEADER = 1;
export const EXTRA_SWITCH = 2;
export const EXTRA_ROUTER = 3;
export const EXTRA_GATEWAY = 4;
const GROUP_BITS = 3;
const GROUP_MASK = 7;

function omitted(v: unknown): boolean {
  const t = typeof v;
  return t === 'undefined' || t === 'function' || t === 'symbol';
}

function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (!omitted(v)) o[k] = v;
}

/** `"key":` of a member, first in the object (with its `{`) and after another. */
function key(k: string): { first: Text; next: Text } {
  return { first: new Text(`{"${k}":`), next: new Text(`,"${k}":`) };
}

const K = {
  sample: key('sample'),
  header: key('header'),
  vlanIds: key('vlan_ids'),
  mplsLabels: key('mpls_labels'),
  ttl: key('ttl'),
  ipv6FlowLabel: key('ipv6_flow_label'),
  srv6Segments: key('srv6_segments'),
  vxlanVni: key('vxlan_vni'),
  encapsulation: key('encapsulation'),
  truncatedAt: key('truncated_at'),
  inner: key('inner'),
  switch: key('switch'),
  router: key('router'),
  gateway: key('gateway'),
} as const;

const FORMATS = ['single', 'discard', 'multiple', 'unknown'] as const;
type Format = (typeof FORMATS)[number];

/** Constant runs of the members' text (written as writeSample etc. write them). */
const R = {
  sampleFirst: new Text('{"sample":{"sequence":'),
  sourceIdType: new Text(',"source_id_type":'),
  sourceIdIndex: new Text(',"source_id_index":'),
  samplingRate: new Text(',"sampling_rate":'),
  samplePool: new Text(',"sample_pool":'),
  drops: new Text(',"drops":'),
  /** `,"input":{"format":"<f>","value":` per format, and the output's. */
  input: FORMATS.map((f) => new Text(`,"input":{"format":"${f}","value":`)),
  output: FORMATS.map((f) => new Text(`},"output":{"format":"${f}","value":`)),
  expandedTrue: new Text('},"expanded":true}'),
  expandedFalse: new Text('},"expanded":false}'),
  headerFirst: new Text('{"header":{"protocol":'),
  headerNext: new Text(',"header":{"protocol":'),
  frameLength: new Text(',"frame_length":'),
  stripped: new Text(',"stripped":'),
  length: new Text(',"length":'),
  switchFirst: new Text('{"switch":{"src_vlan":'),
  switchNext: new Text(',"switch":{"src_vlan":'),
  srcPriority: new Text(',"src_priority":'),
  dstVlan: new Text(',"dst_vlan":'),
  dstPriority: new Text(',"dst_priority":'),
  routerHopFirst: new Text('{"router":{"next_hop":'),
  routerHopNext: new Text(',"router":{"next_hop":'),
  srcMaskLen: new Text(',"src_mask_len":'),
  routerMaskFirst: new Text('{"router":{"src_mask_len":'),
  routerMaskNext: new Text(',"router":{"src_mask_len":'),
  dstMaskLen: new Text(',"dst_mask_len":'),
} as const;

function formatIndex(f: Format): number {
  return f === 'single' ? 0 : f === 'discard' ? 1 : f === 'multiple' ? 2 : 3;
}

export class SflowFlowExtra {
  vlan_ids: unknown = undefined;
  mpls_labels: unknown = undefined;
  ttl: unknown = undefined;
  ipv6_flow_label: unknown = undefined;
  srv6_segments: unknown = undefined;
  vxlan_vni: unknown = undefined;
  encapsulation: unknown = undefined;
  truncated_at: unknown = undefined;
  inner: unknown = undefined;
  gateway: unknown = undefined;

  // `sample`'s numbers, and its object once made or set.
  readonly #sequence: number;
  readonly #sourceIdType: number;
  readonly #sourceIdIndex: number;
  readonly #samplingRate: number;
  readonly #samplePool: number;
  readonly #drops: number;
  readonly #inputFormat: Format;
  readonly #inputValue: number;
  readonly #outputFormat: Format;
  readonly #outputValue: number;
  readonly #expanded: boolean;
  #sample: unknown = undefined;
  #sampleMade = false;
  // `header`'s.
  #hasHeader = false;
  #protocol = 0;
  #frameLength = 0;
  #stripped = 0;
  #length = 0;
  #header: unknown = undefined;
  #headerMade = false;
  // `switch`'s.
  #hasSwitch = false;
  #srcVlan = 0;
  #srcPriority = 0;
  #dstVlan = 0;
  #dstPriority = 0;
  #switch: unknown = undefined;
  #switchMade = false;
  // `router`'s.
  #hasRouter = false;
  #nextHop: string | undefined = undefined;
  #srcMaskLen = 0;
  #dstMaskLen = 0;
  #router: unknown = undefined;
  #routerMade = false;
  /** The groups in the order their records came, GROUP_BITS bits each, first lowest. */
  #order = 0;
  #groups = 0;

  constructor(
    sequence: number,
    sourceIdType: number,
    sourceIdIndex: number,
    samplingRate: number,
    samplePool: number,
    drops: number,
    inputFormat: Format,
    inputValue: number,
    outputFormat: Format,
    outputValue: number,
    expanded: boolean,
  ) {
    this.#sequence = sequence;
    this.#sourceIdType = sourceIdType;
    this.#sourceIdIndex = sourceIdIndex;
    this.#samplingRate = samplingRate;
    this.#samplePool = samplePool;
    this.#drops = drops;
    this.#inputFormat = inputFormat;
    this.#inputValue = inputValue;
    this.#outputFormat = outputFormat;
    this.#outputValue = outputValue;
    this.#expanded = expanded;
  }

  /** Notes that the record of a group (EXTRA_HEADER ... EXTRA_GATEWAY) came next. */
  came(group: number): void {
    this.#order |= group << (GROUP_BITS * this.#groups);
    this.#groups++;
  }

  setHeader(protocol: number, frameLength: number, stripped: number, length: number): void {
    this.#hasHeader = true;
    this.#protocol = protocol;
    this.#frameLength = frameLength;
    this.#stripped = stripped;
    this.#length = length;
    this.#header = undefined;
    this.#headerMade = false;
  }

  setSwitch(srcVlan: number, srcPriority: number, dstVlan: number, dstPriority: number): void {
    this.#hasSwitch = true;
    this.#srcVlan = srcVlan;
    this.#srcPriority = srcPriority;
    this.#dstVlan = dstVlan;
    this.#dstPriority = dstPriority;
    this.#switch = undefined;
    this.#switchMade = false;
  }

  setRouter(nextHop: string | undefined, srcMaskLen: number, dstMaskLen: number): void {
    this.#hasRouter = true;
    this.#nextHop = nextHop;
    this.#srcMaskLen = srcMaskLen;
    this.#dstMaskLen = dstMaskLen;
    this.#router = undefined;
    this.#routerMade = false;
  }

  get sample(): unknown {
    if (!this.#sampleMade) {
      this.#sample = new SflowSampleDoc(
        this.#sequence,
        this.#sourceIdType,
        this.#sourceIdIndex,
        this.#samplingRate,
        this.#samplePool,
        this.#drops,
        new SflowPortDoc(this.#inputFormat, this.#inputValue),
        new SflowPortDoc(this.#outputFormat, this.#outputValue),
        this.#expanded,
      );
      this.#sampleMade = true;
    }
    return this.#sample;
  }

  set sample(v: unknown) {
    this.#sample = v;
    this.#sampleMade = true;
  }

  get header(): unknown {
    if (!this.#headerMade) {
      this.#header = this.#hasHeader
        ? new SflowHeaderDoc(this.#protocol, this.#frameLength, this.#stripped, this.#length)
        : undefined;
      this.#headerMade = true;
    }
    return this.#header;
  }

  set header(v: unknown) {
    this.#header = v;
    this.#headerMade = true;
  }

  get switch(): unknown {
    if (!this.#switchMade) {
      this.#switch = this.#hasSwitch
        ? new SflowSwitchDoc(this.#srcVlan, this.#srcPriority, this.#dstVlan, this.#dstPriority)
        : undefined;
      this.#switchMade = true;
    }
    return this.#switch;
  }

  set switch(v: unknown) {
    this.#switch = v;
    this.#switchMade = true;
  }

  get router(): unknown {
    if (!this.#routerMade) {
      this.#router = this.#hasRouter
        ? new SflowRouterDoc(this.#nextHop, this.#srcMaskLen, this.#dstMaskLen)
        : undefined;
      this.#routerMade = true;
    }
    return this.#router;
  }

  set router(v: unknown) {
    this.#router = v;
    this.#routerMade = true;
  }

  /** The groups in JSON order: those noted, then the others (GROUP_BITS bits each). */
  #jsonOrder(): number {
    const noted = this.#order;
    const groups = this.#groups;
    let order = noted;
    let n = groups;
    for (let g = EXTRA_HEADER; g <= EXTRA_GATEWAY; g++) {
      let seen = false;
      for (let i = 0; i < groups; i++)
        if (((noted >>> (GROUP_BITS * i)) & GROUP_MASK) === g) seen = true;
      if (!seen) {
        order |= g << (GROUP_BITS * n);
        n++;
      }
    }
    return order;
  }

  /** The object JSON writes for this instance: the general producer's. */
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    put(o, 'sample', this.sample);
    for (let order = this.#jsonOrder(); order !== 0; order >>>= GROUP_BITS) {
      switch (order & GROUP_MASK) {
        case EXTRA_HEADER:
          put(o, 'header', this.header);
          put(o, 'vlan_ids', this.vlan_ids);
          put(o, 'mpls_labels', this.mpls_labels);
          put(o, 'ttl', this.ttl);
          put(o, 'ipv6_flow_label', this.ipv6_flow_label);
          put(o, 'srv6_segments', this.srv6_segments);
          put(o, 'vxlan_vni', this.vxlan_vni);
          put(o, 'encapsulation', this.encapsulation);
          put(o, 'truncated_at', this.truncated_at);
          put(o, 'inner', this.inner);
          break;
        case EXTRA_SWITCH:
          put(o, 'switch', this.switch);
          break;
        case EXTRA_ROUTER:
          put(o, 'router', this.router);
          break;
        case EXTRA_GATEWAY:
          put(o, 'gateway', this.gateway);
          break;
      }
    }
    return o;
  }

  /**
   * Writes the JSON of toJSON's object. Raises UnusualValue (from the general writers)
   * for a member value they do not take; the caller then stringifies.
   */
  write(o: JsonOut): void {
    let f: boolean;
    if (this.#sampleMade) f = member(o, K.sample, this.#sample, true);
    else {
      writeTextNumber(o, R.sampleFirst, this.#sequence);
      writeTextNumber(o, R.sourceIdType, this.#sourceIdType);
      writeTextNumber(o, R.sourceIdIndex, this.#sourceIdIndex);
      writeTextNumber(o, R.samplingRate, this.#samplingRate);
      writeTextNumber(o, R.samplePool, this.#samplePool);
      writeTextNumber(o, R.drops, this.#drops);
      writeTextNumber(o, R.input[formatIndex(this.#inputFormat)] as Text, this.#inputValue);
      writeTextNumber(o, R.output[formatIndex(this.#outputFormat)] as Text, this.#outputValue);
      writeText(o, this.#expanded ? R.expandedTrue : R.expandedFalse);
      f = false;
    }
    for (let order = this.#jsonOrder(); order !== 0; order >>>= GROUP_BITS) {
      switch (order & GROUP_MASK) {
        case EXTRA_HEADER:
          if (this.#headerMade) f = member(o, K.header, this.#header, f);
          else if (this.#hasHeader) {
            writeTextNumber(o, f ? R.headerFirst : R.headerNext, this.#protocol);
            writeTextNumber(o, R.frameLength, this.#frameLength);
            writeTextNumber(o, R.stripped, this.#stripped);
            writeTextNumber(o, R.length, this.#length);
            writeByte(o, 0x7d);
            f = false;
          }
          f = member(o, K.vlanIds, this.vlan_ids, f);
          f = member(o, K.mplsLabels, this.mpls_labels, f);
          f = member(o, K.ttl, this.ttl, f);
          f = member(o, K.ipv6FlowLabel, this.ipv6_flow_label, f);
          f = member(o, K.srv6Segments, this.srv6_segments, f);
          f = member(o, K.vxlanVni, this.vxlan_vni, f);
          f = member(o, K.encapsulation, this.encapsulation, f);
          f = member(o, K.truncatedAt, this.truncated_at, f);
          f = member(o, K.inner, this.inner, f);
          break;
        case EXTRA_SWITCH:
          if (this.#switchMade) f = member(o, K.switch, this.#switch, f);
          else if (this.#hasSwitch) {
            writeTextNumber(o, f ? R.switchFirst : R.switchNext, this.#srcVlan);
            writeTextNumber(o, R.srcPriority, this.#srcPriority);
            writeTextNumber(o, R.dstVlan, this.#dstVlan);
            writeTextNumber(o, R.dstPriority, this.#dstPriority);
            writeByte(o, 0x7d);
            f = false;
          }
          break;
        case EXTRA_ROUTER:
          if (this.#routerMade) f = member(o, K.router, this.#router, f);
          else if (this.#hasRouter) {
            const hop = this.#nextHop;
            if (hop !== undefined) {
              writeText(o, f ? R.routerHopFirst : R.routerHopNext);
              writeString(o, hop);
              writeTextNumber(o, R.srcMaskLen, this.#srcMaskLen);
            } else {
              writeTextNumber(o, f ? R.routerMaskFirst : R.routerMaskNext, this.#srcMaskLen);
            }
            writeTextNumber(o, R.dstMaskLen, this.#dstMaskLen);
            writeByte(o, 0x7d);
            f = false;
          }
          break;
        case EXTRA_GATEWAY:
          f = member(o, K.gateway, this.gateway, f);
          break;
      }
    }
    if (f) writeByte(o, 0x7b);
    writeByte(o, 0x7d);
  }
}

/** One member by the general writers, unless JSON leaves it out; whether none came yet. */
function member(o: JsonOut, k: { first: Text; next: Text }, v: unknown, first: boolean): boolean {
  if (omitted(v)) return first;
  writeText(o, first ? k.first : k.next);
  writeExtraValue(o, v, 1);
  return false;
}

/** The prototype's toJSON: an instance whose toJSON is another is not written by `write`. */
export const FLOW_EXTRA_TO_JSON = SflowFlowExtra.prototype.toJSON;
