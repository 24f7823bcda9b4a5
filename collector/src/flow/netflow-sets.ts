// Data sets of fixed-length NetFlow v9 / IPFIX templates read straight into
// NetflowRecords. The general path reads each record into a DecodedRecord (an object and
// its values array), then the lifter reads the values back one by one, testing each for
// an IPv4 number and for being a number at all, keeps what is resolved after the fields
// in a LiftState, and finishLift and the producer's sampling read it back. Here one
// generated function per layout reads each field once into a local at its fixed offset,
// puts the locals in the record's values (the same array the generated reader builds,
// which the document writer and `fields` read) and does the lifter's work in
// straight-line code with what is known when the code is generated:
// - whether a value is an IPv4 number or surely a number (the field's reader kind);
// - whether a field is the first to set an address, which on a new record always
//   takes (liftIpv4's rule), so it is stored without the test;
// - which of the lift state's members the layout sets: they are locals, and finishLift's
//   rules are written only for those (the others are undefined);
// - whether the layout carries a sampler id or rate: if not, the sampling decision is
//   the set's, made once.
// The general path stays the reference: it serves for a layout's first records and when
// code generation is disallowed, and netflow-sets.test.ts compares the two.

import {
  FIELD_HELPERS,
  fieldExpression,
  fieldHelpers,
  IPV4,
  type ReaderKind,
  UINT8,
  UINT16,
  UINT32,
} from '../protocol/templates/compiled-dataset.js';
import type { FixedDataSet } from '../protocol/templates/dataset.js';
import type { PacketContext, RecordLayout } from '../protocol/templates/types.js';
import {
  A,
  actionOf,
  LIFT_HELPERS,
  type Lift,
  type LiftState,
  liftHelpers,
  liftOf,
  STORES,
  takesNumber,
} from './netflow-lift.js';
import { NetflowRecord } from './netflow-record.js';
import type { ExporterInfo, FlowRecord } from './record.js';
import { type RecordPool, takeRecordCode } from './record-pool.js';
import type { SamplingDecision } from './sampling.js';
import { fromUptime } from './uptime.js';

/**
 * What the generated code needs of the producer: its lift state, sampling decisions and
 * the records it recycles (RecordPool).
 */
export interface SetProducerHost extends RecordPool {
  readonly state: LiftState;
  decideFlow(
    ctx: PacketContext,
    sampler: number | undefined,
    carriedRate: number | undefined,
    headerRate: number | undefined,
  ): SamplingDecision;
}

/** Makes the `count` records of a set into `out` from `k` on; returns the next `k`. */
export type SetProducer = (
  body: Uint8Array,
  view: DataView,
  count: number,
  ctx: PacketContext,
  exporter: ExporterInfo,
  layout: RecordLayout,
  host: SetProducerHost,
  out: FlowRecord[],
  k: number,
) => number;

/** Records of a layout made by the general path before its producer is generated. */
const COMPILE_AFTER = 64;

/** The address each address action sets (the record member that liftIpv4 / LIFTS test). */
export const ADDRESS_OF = new Map<number, 'src' | 'dst' | 'nextHop'>([
  [A.src4, 'src'],
  [A.src6, 'src'],
  [A.dst4, 'dst'],
  [A.dst6, 'dst'],
  [A.nextHop, 'nextHop'],
]);

/** liftIpv4 on a record none of whose fields has set this address yet. */
export const FIRST_IPV4: Record<'src' | 'dst' | 'nextHop', string> = {
  src: 'r.srcIpv4 = $; r.ipVersion = 4;',
  dst: 'r.dstIpv4 = $; r.ipVersion = 4;',
  nextHop: 'r.nextHopIpv4 = $;',
};

interface Statements {
  readonly code: string;
  /** The lift state's members the layout sets (locals `s_<member>`). */
  readonly set: ReadonlySet<string>;
}

/**
 * What the layout's fields do to the record `r`, in field order: the generated lifter's
 * statements (liftStatements) with the lift state's members as locals and the known
 * cases decided here. The LIFTS functions still called (f0, f1...: addresses as text,
 * MACs, direction) set record members only; durationUs, the one other that writes
 * the lift state, is written out.
 */
function liftCode(actions: Uint8Array, kinds: Uint8Array, used: Lift[]): Statements {
  let code = '';
  const set = new Set<string>();
  const claimed = new Set<string>();
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i] as number;
    if (action === A.skip) continue;
    const v = `v${i}`;
    const kind = kinds[i];
    const ipv4 = kind === IPV4;
    const isNumber = kind === UINT8 || kind === UINT16 || kind === UINT32;
    // num(v) for a number is v: only other values take the call.
    const number = ipv4
      ? `num(ipv4Text(${v}))`
      : isNumber
        ? v
        : `(typeof ${v} === 'number' ? ${v} : num(${v}))`;
    const store = STORES.get(action);
    if (store !== undefined) {
      if (store.startsWith('st.')) {
        const member = store.slice(3);
        set.add(member);
        code += `s_${member} = ${number};\n`;
      } else {
        code += `${store} = ${number};\n`;
      }
      continue;
    }
    if (action === A.durationUs) {
      set.add('durationMs');
      code += `{ const us = ${number}; if (us !== undefined) s_durationMs = us / 1000; }\n`;
      continue;
    }
    const address = ADDRESS_OF.get(action);
    if (ipv4 && takesNumber(action) && address !== undefined) {
      code += claimed.has(address)
        ? `liftIpv4(r, ${action}, ${v});\n`
        : `${FIRST_IPV4[address].replace('$', v)}\n`;
      claimed.add(address);
      continue;
    }
    if (address !== undefined) claimed.add(address);
    code += `f${used.length}(r, st, ${ipv4 ? `ipv4Text(${v})` : v});\n`;
    used.push(liftOf(action));
  }
  return { code, set };
}

/** The lift state's time members: the record member each sets, and from what. */
const TIMES: readonly (readonly [string, 'startMs' | 'endMs', string])[] = [
  ['startUp', 'startMs', 'fromUptime(ctx, $)'],
  ['endUp', 'endMs', 'fromUptime(ctx, $)'],
  ['startDeltaUs', 'startMs', 'ctx.exportTimeMs - $ / 1000'],
  ['endDeltaUs', 'endMs', 'ctx.exportTimeMs - $ / 1000'],
];

/**
 * finishLift's rules for the lift state's members a layout sets (locals `s_<member>`; the
 * others are undefined). Also the v1/v5/v7 producers' (netflow-fixed.ts).
 */
export function finishCode(set: ReadonlySet<string>): string {
  let code = '';
  if (set.has('totalBytes')) code += 'r.bytes ??= s_totalBytes;\n';
  if (set.has('totalPackets')) code += 'r.packets ??= s_totalPackets;\n';
  // A time from the first member that gives one, in finishLift's order.
  for (const [member, end, value] of TIMES) {
    if (!set.has(member)) continue;
    const v = value.replace('$', `s_${member}`);
    code += `if (r.${end} === undefined && s_${member} !== undefined) r.${end} = ${v};\n`;
  }
  if (set.has('durationMs')) {
    code += `if (s_durationMs !== undefined) {
      if (r.startMs !== undefined && r.endMs === undefined) r.endMs = r.startMs + s_durationMs;
      else if (r.endMs !== undefined && r.startMs === undefined) r.startMs = r.endMs - s_durationMs;
    }\n`;
  }
  const tc = set.has('icmpTypeCode') ? 's_icmpTypeCode ?? r.dstPort' : 'r.dstPort';
  code += `if ((r.protocol === 1 || r.protocol === 58) && r.icmpType === undefined) {
    const tc = ${tc};
    if (tc !== undefined) {
      r.icmpType = tc >>> 8;
      r.icmpCode = tc & 0xff;
    }
  }\n`;
  return code;
}

type Factory = (lifts: readonly Lift[], ...helpers: readonly unknown[]) => SetProducer;

/**
 * Fields past which a layout keeps the general path: real templates have a few dozen;
 * one function per record of thousands of fields (a template can declare some 16,000)
 * would be generated and compiled for nothing.
 */
const MAX_FIELDS = 256;

function generate(set: FixedDataSet): SetProducer | undefined {
  const kinds = set.kinds;
  const fields = set.template.fields;
  if (fields.length > MAX_FIELDS) return undefined;
  let offset = 0;
  let reads = '';
  const values: string[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const length = (fields[i] as (typeof fields)[number]).length;
    reads += `const v${i} = ${fieldExpression(kinds[i] as ReaderKind, offset, length, i)};\n`;
    values.push(`v${i}`);
    offset += length;
  }
  const used: Lift[] = [];
  const lift = liftCode(Uint8Array.from(set.layout.infos, actionOf), kinds, used);
  const locals = [...lift.set].map((m) => `let s_${m} = undefined;\n`).join('');
  const perRecord = lift.set.has('sampler') || lift.set.has('carriedRate');
  const sampler = lift.set.has('sampler') ? 's_sampler' : 'undefined';
  const carried = lift.set.has('carriedRate') ? 's_carriedRate' : 'undefined';
  const decide = `host.decideFlow(ctx, ${sampler}, ${carried}, undefined)`;
  const head = used.map((_, k) => `const f${k} = lifts[${k}];\n`).join('');
  const code = `${head}
    return function produceSet(body, view, count, ctx, exporter, layout, host, out, k) {
      const infos = layout.infos;
      const receivedMs = ctx.receivedMs;
      const st = host.state;
      const pool = host.pool;
      ${perRecord ? '' : `const d = ${decide};`}
      for (let i = 0, p = 0; i < count; i++, p += ${offset}) {
        ${reads}
        ${takeRecordCode(values)}
        ${locals}
        ${lift.code}
        ${finishCode(lift.set)}
        ${perRecord ? `const d = ${decide};` : ''}
        r.samplingRate = d.rate;
        r.samplingSource = d.source;
        out[k++] = r;
      }
      return k;
    };`;
  try {
    const factory = new Function(
      'lifts',
      'NetflowRecord',
      'fromUptime',
      ...LIFT_HELPERS,
      ...FIELD_HELPERS,
      code,
    ) as Factory;
    return factory(used, NetflowRecord, fromUptime, ...liftHelpers, ...fieldHelpers);
  } catch {
    // Code generation disallowed (node --disallow-code-generation-from-strings).
    return undefined;
  }
}

interface SetPlan {
  readonly key: string;
  uses: number;
  tried: boolean;
  produce: SetProducer | undefined;
}

/** Generated producers by reader kinds, lengths and actions; bounded (layouts come from the network). */
const byKey = new Map<string, SetProducer | undefined>();
const MAX_PRODUCERS = 512;
/** Plans by the decoder's layout object (one per template). */
const plans = new WeakMap<RecordLayout, SetPlan>();

function keyOf(set: FixedDataSet): string {
  const fields = set.template.fields;
  const infos = set.layout.infos;
  let key = '';
  for (let i = 0; i < fields.length; i++) {
    const info = infos[i] as (typeof infos)[number];
    key += `${set.kinds[i]}:${(fields[i] as (typeof fields)[number]).length}:${actionOf(info)},`;
  }
  return key;
}

/**
 * The generated producer of a set's layout, once more than `compileAfter` records of
 * its reader kinds, lengths and actions have come (a template sent again is a new
 * layout, which finds the producer already made); undefined until then (the general
 * path makes them) and when code generation is disallowed.
 */
export function setProducerOf(
  set: FixedDataSet,
  compileAfter = COMPILE_AFTER,
): SetProducer | undefined {
  let plan = plans.get(set.layout);
  if (plan === undefined) {
    const key = keyOf(set);
    const made = byKey.get(key);
    plan = { key, uses: 0, tried: made !== undefined, produce: made };
    plans.set(set.layout, plan);
  }
  if (plan.tried) return plan.produce;
  plan.uses += set.count;
  if (plan.uses <= compileAfter) return undefined;
  plan.tried = true;
  if (!byKey.has(plan.key)) {
    if (byKey.size >= MAX_PRODUCERS) byKey.clear();
    byKey.set(plan.key, generate(set));
  }
  plan.produce = byKey.get(plan.key);
  return plan.produce;
}
