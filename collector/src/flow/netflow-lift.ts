// What the NetFlow/IPFIX producer lifts from each field into the FlowRecord: every
// element resolved once per template layout to an action (which record member it sets),
// each action one small function (LIFTS, the single statement of the rule), and per
// layout a generated function that applies them field by field in straight-line code:
// no loop, no switch, each call site with one target for V8 to inline, and the actions
// that only store a number (STORES) written as that one statement. The loop over
// the same table is the fallback when code generation is disallowed; the producer tests
// compare both on generated layouts.
import type { ElementInfo } from '../protocol/ipfix/registry/index.js';
import { ipv4Text } from '../protocol/templates/ipv4-field.js';
import type { FieldValue, PacketContext } from '../protocol/templates/types.js';
import type { NetflowRecord } from './netflow-record.js';
import { fromUptime } from './uptime.js';

/** RFC 5103 reverse information elements use this private enterprise number. */
const REVERSE_PEN = 29305;

export function num(v: FieldValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function str(v: FieldValue): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Some templates carry both IPv4 and IPv6 address fields and fill only one family;
 * the unspecified address (0.0.0.0, ::) never replaces a real one.
 */
function settable(current: string | undefined, v: FieldValue): boolean {
  if (current === undefined || current === '0.0.0.0' || current === '::') return true;
  return v !== '0.0.0.0' && v !== '::';
}

/**
 * `settable` for an address given as a number: the current address (a number, or text
 * when it came from a field without one) is replaced unless only the new one is the
 * unspecified address.
 */
function settableIpv4(current: number | undefined, currentText: string | undefined, n: number) {
  if (current !== undefined) return current === 0 || n !== 0;
  return settable(currentText, n === 0 ? '0.0.0.0' : '');
}

/** An IPv4 source, destination or next hop from its number (FlowField.ipv4). */
function liftIpv4(r: NetflowRecord, action: number, n: number): void {
  if (action === A.src4) {
    // The text is read only when there is no number (then it is all there is).
    if (settableIpv4(r.srcIpv4, r.srcIpv4 === undefined ? r.srcTextOnly() : undefined, n)) {
      r.setSrcIpv4(n);
      r.ipVersion = 4;
    }
  } else if (action === A.dst4) {
    if (settableIpv4(r.dstIpv4, r.dstIpv4 === undefined ? r.dstTextOnly() : undefined, n)) {
      r.setDstIpv4(n);
      r.ipVersion = 4;
    }
  } else {
    r.setNextHopIpv4(n);
  }
}

/**
 * What the producer does with an element. Resolving an element to its action once per
 * template layout (instead of testing enterprise, the `scope_` prefix and a sparse id
 * switch for every field of every record) is most of the producer's speed.
 */
export const A = {
  skip: 0,
  reverseBytes: 1,
  reversePackets: 2,
  bytes: 3,
  packets: 4,
  totalBytes: 5,
  totalPackets: 6,
  protocol: 7,
  tos: 8,
  tcpFlags: 9,
  srcPort: 10,
  dstPort: 11,
  src4: 12,
  dst4: 13,
  src6: 14,
  dst6: 15,
  srcMask: 16,
  dstMask: 17,
  inInterface: 18,
  outInterface: 19,
  nextHop: 20,
  srcAs: 21,
  dstAs: 22,
  srcMac: 23,
  dstMac: 24,
  vlan: 25,
  innerVlan: 26,
  direction: 27,
  icmpTypeCode: 28,
  icmpType: 29,
  icmpCode: 30,
  startUp: 31,
  endUp: 32,
  startMs: 33,
  endMs: 34,
  startDeltaUs: 35,
  endDeltaUs: 36,
  durationMs: 37,
  durationUs: 38,
  sampler: 39,
  rate: 40,
} as const;

/** IANA element id -> action (enterprise 0, not an options scope field). */
const IANA_ACTIONS = new Map<number, number>([
  [1, A.bytes],
  [2, A.packets],
  [85, A.totalBytes],
  [86, A.totalPackets],
  [4, A.protocol],
  [5, A.tos],
  [6, A.tcpFlags],
  [7, A.srcPort],
  [11, A.dstPort],
  [8, A.src4],
  [12, A.dst4],
  [27, A.src6],
  [28, A.dst6],
  [9, A.srcMask],
  [29, A.srcMask],
  [13, A.dstMask],
  [30, A.dstMask],
  [10, A.inInterface],
  [14, A.outInterface],
  [15, A.nextHop],
  [62, A.nextHop],
  [16, A.srcAs],
  [17, A.dstAs],
  [56, A.srcMac],
  [80, A.dstMac],
  [58, A.vlan],
  [243, A.vlan],
  [245, A.innerVlan],
  [61, A.direction],
  [32, A.icmpTypeCode],
  [139, A.icmpTypeCode],
  [176, A.icmpType],
  [178, A.icmpType],
  [177, A.icmpCode],
  [179, A.icmpCode],
  [22, A.startUp],
  [21, A.endUp],
  [150, A.startMs],
  [152, A.startMs],
  [154, A.startMs],
  [156, A.startMs],
  [151, A.endMs],
  [153, A.endMs],
  [155, A.endMs],
  [157, A.endMs],
  [158, A.startDeltaUs],
  [159, A.endDeltaUs],
  [161, A.durationMs],
  [162, A.durationUs],
  [48, A.sampler],
  [302, A.sampler],
  [34, A.rate],
  [50, A.rate],
  [305, A.rate],
]);

export function actionOf(info: ElementInfo): number {
  if (info.enterprise === REVERSE_PEN) {
    // RFC 5103 biflows: the reverse direction's counters.
    return info.id === 1 ? A.reverseBytes : info.id === 2 ? A.reversePackets : A.skip;
  }
  if (info.enterprise !== 0 || info.field.startsWith('scope_')) return A.skip;
  return IANA_ACTIONS.get(info.id) ?? A.skip;
}

/** What a record's fields say that is resolved after all of them (times, totals, sampling). */
export class LiftState {
  startUp: number | undefined = undefined;
  endUp: number | undefined = undefined;
  durationMs: number | undefined = undefined;
  startDeltaUs: number | undefined = undefined;
  endDeltaUs: number | undefined = undefined;
  sampler: number | undefined = undefined;
  carriedRate: number | undefined = undefined;
  totalBytes: number | undefined = undefined;
  totalPackets: number | undefined = undefined;
  icmpTypeCode: number | undefined = undefined;

  reset(): void {
    this.startUp = undefined;
    this.endUp = undefined;
    this.durationMs = undefined;
    this.startDeltaUs = undefined;
    this.endDeltaUs = undefined;
    this.sampler = undefined;
    this.carriedRate = undefined;
    this.totalBytes = undefined;
    this.totalPackets = undefined;
    this.icmpTypeCode = undefined;
  }
}

/**
 * What is resolved once all of a record's fields are lifted: totals where there are no
 * delta counters, times (uptime stamps, deltas from export time, a duration beside one
 * end), and ICMP type and code from a type/code element or the destination port.
 */
export function finishLift(r: NetflowRecord, st: LiftState, ctx: PacketContext): void {
  const { startUp, endUp, startDeltaUs, endDeltaUs, icmpTypeCode } = st;
  const { totalBytes, totalPackets, durationMs } = st;
  r.bytes ??= totalBytes;
  r.packets ??= totalPackets;
  if (r.startMs === undefined && startUp !== undefined) r.startMs = fromUptime(ctx, startUp);
  if (r.endMs === undefined && endUp !== undefined) r.endMs = fromUptime(ctx, endUp);
  if (r.startMs === undefined && startDeltaUs !== undefined) {
    r.startMs = ctx.exportTimeMs - startDeltaUs / 1000;
  }
  if (r.endMs === undefined && endDeltaUs !== undefined)
    r.endMs = ctx.exportTimeMs - endDeltaUs / 1000;
  if (durationMs !== undefined) {
    if (r.startMs !== undefined && r.endMs === undefined) r.endMs = r.startMs + durationMs;
    else if (r.endMs !== undefined && r.startMs === undefined) r.startMs = r.endMs - durationMs;
  }
  const icmp = r.protocol === 1 || r.protocol === 58;
  if (icmp && r.icmpType === undefined) {
    // Explicit type/code elements first; v1/v5/v7 (and many v9 exporters) put
    // type*256+code in the destination port.
    const tc = icmpTypeCode ?? r.dstPort;
    if (tc !== undefined) {
      r.icmpType = tc >>> 8;
      r.icmpCode = tc & 0xff;
    }
  }
}

export type Lift = (r: NetflowRecord, st: LiftState, v: FieldValue) => void;

const skip: Lift = () => {};

/** Per action, what a field's value does to the record (addresses as text here). */
const LIFTS: readonly Lift[] = (() => {
  const l: Lift[] = [];
  l[A.skip] = skip;
  l[A.reverseBytes] = (r, _s, v) => {
    r.reverseBytes = num(v);
  };
  l[A.reversePackets] = (r, _s, v) => {
    r.reversePackets = num(v);
  };
  l[A.bytes] = (r, _s, v) => {
    r.bytes = num(v);
  };
  l[A.packets] = (r, _s, v) => {
    r.packets = num(v);
  };
  l[A.totalBytes] = (_r, s, v) => {
    s.totalBytes = num(v);
  };
  l[A.totalPackets] = (_r, s, v) => {
    s.totalPackets = num(v);
  };
  l[A.protocol] = (r, _s, v) => {
    r.protocol = num(v);
  };
  l[A.tos] = (r, _s, v) => {
    r.tos = num(v);
  };
  l[A.tcpFlags] = (r, _s, v) => {
    r.tcpFlags = num(v);
  };
  l[A.srcPort] = (r, _s, v) => {
    r.srcPort = num(v);
  };
  l[A.dstPort] = (r, _s, v) => {
    r.dstPort = num(v);
  };
  l[A.src4] = (r, _s, v) => {
    if (settable(r.srcAddr, v)) {
      r.srcAddr = str(v);
      r.ipVersion = 4;
    }
  };
  l[A.dst4] = (r, _s, v) => {
    if (settable(r.dstAddr, v)) {
      r.dstAddr = str(v);
      r.ipVersion = 4;
    }
  };
  l[A.src6] = (r, _s, v) => {
    if (settable(r.srcAddr, v)) {
      r.srcAddr = str(v);
      r.ipVersion = 6;
    }
  };
  l[A.dst6] = (r, _s, v) => {
    if (settable(r.dstAddr, v)) {
      r.dstAddr = str(v);
      r.ipVersion = 6;
    }
  };
  l[A.srcMask] = (r, _s, v) => {
    r.srcMask = num(v);
  };
  l[A.dstMask] = (r, _s, v) => {
    r.dstMask = num(v);
  };
  l[A.inInterface] = (r, _s, v) => {
    r.inInterface = num(v);
  };
  l[A.outInterface] = (r, _s, v) => {
    r.outInterface = num(v);
  };
  l[A.nextHop] = (r, _s, v) => {
    r.nextHop = str(v);
  };
  l[A.srcAs] = (r, _s, v) => {
    r.srcAs = num(v);
  };
  l[A.dstAs] = (r, _s, v) => {
    r.dstAs = num(v);
  };
  l[A.srcMac] = (r, _s, v) => {
    r.srcMac = str(v);
  };
  l[A.dstMac] = (r, _s, v) => {
    r.dstMac = str(v);
  };
  l[A.vlan] = (r, _s, v) => {
    r.vlan = num(v);
  };
  l[A.innerVlan] = (r, _s, v) => {
    r.innerVlan = num(v);
  };
  l[A.direction] = (r, _s, v) => {
    const d = num(v);
    r.direction = d === 0 ? 'ingress' : d === 1 ? 'egress' : 'unknown';
  };
  l[A.icmpTypeCode] = (_r, s, v) => {
    s.icmpTypeCode = num(v);
  };
  l[A.icmpType] = (r, _s, v) => {
    r.icmpType = num(v);
  };
  l[A.icmpCode] = (r, _s, v) => {
    r.icmpCode = num(v);
  };
  l[A.startUp] = (_r, s, v) => {
    s.startUp = num(v);
  };
  l[A.endUp] = (_r, s, v) => {
    s.endUp = num(v);
  };
  l[A.startMs] = (r, _s, v) => {
    r.startMs = num(v);
  };
  l[A.endMs] = (r, _s, v) => {
    r.endMs = num(v);
  };
  l[A.startDeltaUs] = (_r, s, v) => {
    s.startDeltaUs = num(v);
  };
  l[A.endDeltaUs] = (_r, s, v) => {
    s.endDeltaUs = num(v);
  };
  l[A.durationMs] = (_r, s, v) => {
    s.durationMs = num(v);
  };
  l[A.durationUs] = (_r, s, v) => {
    const us = num(v);
    if (us !== undefined) s.durationMs = us / 1000;
  };
  l[A.sampler] = (_r, s, v) => {
    s.sampler = num(v);
  };
  l[A.rate] = (_r, s, v) => {
    s.carriedRate = num(v);
  };
  return l;
})();

/** What an action's field does to a record (the LIFTS function of the action). */
export function liftOf(action: number): Lift {
  return LIFTS[action] as Lift;
}

/** Whether an action takes an IPv4 number as it is (liftIpv4) rather than its text. */
export function takesNumber(action: number): boolean {
  return action === A.src4 || action === A.dst4 || action === A.nextHop;
}

/**
 * Applies a layout's fields to a record. `ipv4` (RecordLayout.ipv4) marks values that
 * are IPv4 numbers: the address actions keep them as numbers (netflow-record.ts makes
 * the text if someone reads it); any other action takes the text, as the field reads.
 */
export type Lifter = (
  r: NetflowRecord,
  st: LiftState,
  values: readonly FieldValue[],
  ipv4: Uint8Array,
) => void;

/** The loop over LIFTS: the fallback, and the reference the generated code must equal. */
export function liftLoop(actions: Uint8Array): Lifter {
  return (r, st, values, ipv4) => {
    for (let i = 0; i < values.length; i++) {
      const action = actions[i] as number;
      if (action === A.skip) continue;
      let v = values[i] as FieldValue;
      if (ipv4[i] === 1) {
        if (takesNumber(action)) {
          liftIpv4(r, action, v as number);
          continue;
        }
        v = ipv4Text(v as number);
      }
      (LIFTS[action] as Lift)(r, st, v);
    }
  };
}

/**
 * Actions that only store the field's number in one member of the record (`r`) or of the
 * lift state (`st`): exactly what their LIFTS function does, written inline by the
 * generated lifter (one statement instead of a call, however many fields a layout has).
 */
export const STORES: ReadonlyMap<number, string> = new Map([
  [A.reverseBytes, 'r.reverseBytes'],
  [A.reversePackets, 'r.reversePackets'],
  [A.bytes, 'r.bytes'],
  [A.packets, 'r.packets'],
  [A.totalBytes, 'st.totalBytes'],
  [A.totalPackets, 'st.totalPackets'],
  [A.protocol, 'r.protocol'],
  [A.tos, 'r.tos'],
  [A.tcpFlags, 'r.tcpFlags'],
  [A.srcPort, 'r.srcPort'],
  [A.dstPort, 'r.dstPort'],
  [A.srcMask, 'r.srcMask'],
  [A.dstMask, 'r.dstMask'],
  [A.inInterface, 'r.inInterface'],
  [A.outInterface, 'r.outInterface'],
  [A.srcAs, 'r.srcAs'],
  [A.dstAs, 'r.dstAs'],
  [A.vlan, 'r.vlan'],
  [A.innerVlan, 'r.innerVlan'],
  [A.icmpTypeCode, 'st.icmpTypeCode'],
  [A.icmpType, 'r.icmpType'],
  [A.icmpCode, 'r.icmpCode'],
  [A.startUp, 'st.startUp'],
  [A.endUp, 'st.endUp'],
  [A.startMs, 'r.startMs'],
  [A.endMs, 'r.endMs'],
  [A.startDeltaUs, 'st.startDeltaUs'],
  [A.endDeltaUs, 'st.endDeltaUs'],
  [A.durationMs, 'st.durationMs'],
  [A.sampler, 'st.sampler'],
  [A.rate, 'st.carriedRate'],
]);

/**
 * How generated code gets one field's value: `read`, a statement run first (or ''),
 * `v`, the expression of the value after it, and whether it is an IPv4 number (true or
 * false when known where the code is generated, else the expression that tells when it
 * runs) and surely a number.
 */
export interface FieldCode {
  readonly read: string;
  readonly v: string;
  readonly ipv4: boolean | string;
  readonly isNumber: boolean;
}

/**
 * The statements that apply a layout's fields to the record `r` and the lift state `st`,
 * in field order: what liftLoop does, with each action's LIFTS function bound to a
 * constant `f0`, `f1`... of its own (pushed to `used`, one target per call site) and the
 * actions that only store a number (STORES) written as that one statement.
 */
export function liftStatements(
  actions: Uint8Array,
  field: (i: number) => FieldCode,
  used: Lift[],
): string {
  let code = '';
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i] as number;
    if (action === A.skip) continue;
    const { read, v, ipv4, isNumber } = field(i);
    code += read;
    const store = STORES.get(action);
    if (store !== undefined) {
      // num(v) for a number is v: only other values take the call.
      if (ipv4 === true) code += `${store} = num(ipv4Text(${v}));\n`;
      else if (ipv4 === false && isNumber) code += `${store} = ${v};\n`;
      else {
        if (ipv4 !== false) code += `if (${ipv4}) ${v} = ipv4Text(${v});\n`;
        code += `${store} = typeof ${v} === 'number' ? ${v} : num(${v});\n`;
      }
      continue;
    }
    const f = `f${used.length}`;
    used.push(LIFTS[action] as Lift);
    if (takesNumber(action)) {
      const number = `liftIpv4(r, ${action}, ${v});\n`;
      const other = `${f}(r, st, ${v});\n`;
      code +=
        ipv4 === true ? number : ipv4 === false ? other : `if (${ipv4}) ${number} else ${other}`;
    } else {
      const arg =
        ipv4 === true ? `ipv4Text(${v})` : ipv4 === false ? v : `${ipv4} ? ipv4Text(${v}) : ${v}`;
      code += `${f}(r, st, ${arg});\n`;
    }
  }
  return code;
}

/** What generated lift code calls, in the order of LIFT_HELPERS' names. */
export const LIFT_HELPERS = ['liftIpv4', 'ipv4Text', 'num'] as const;
export const liftHelpers = [liftIpv4, ipv4Text, num] as const;

type Factory = (
  lifts: readonly Lift[],
  liftIpv4Fn: typeof liftIpv4,
  ipv4TextFn: typeof ipv4Text,
  numFn: typeof num,
) => Lifter;

/**
 * The generated lifter of a layout (liftStatements over the values array, with the
 * IPv4 test when it runs). Undefined when code generation is disallowed (liftLoop then
 * serves).
 */
export function compileLifter(actions: Uint8Array): Lifter | undefined {
  const used: Lift[] = [];
  const code = liftStatements(
    actions,
    (i) => ({ read: `v = values[${i}];\n`, v: 'v', ipv4: `ipv4[${i}] === 1`, isNumber: false }),
    used,
  );
  const head = used.map((_, k) => `const f${k} = lifts[${k}];\n`).join('');
  try {
    const factory = new Function(
      'lifts',
      ...LIFT_HELPERS,
      `${head}return function lift(r, st, values, ipv4) {\nlet v;\n${code}};`,
    ) as Factory;
    return factory(used, ...liftHelpers);
  } catch {
    // Code generation disallowed (node --disallow-code-generation-from-strings).
    return undefined;
  }
}
