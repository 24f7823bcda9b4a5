// NetFlow v1, v5 and v7 records read straight from the datagram into NetflowRecords.
// Their layouts are fixed, so what the general path works out per record (the reader
// builds a values array, the lifter reads it back field by field, testing for IPv4
// numbers, and keeps the times in a LiftState to resolve after) is known when the
// code is generated: one function per layout reads each field once into a local, puts
// it in the record's values (the same array the general reader builds, which the
// document writer and `fields` read) and in its member, and resolves times and ICMP
// type/code from the locals. The sampling decision is the packet's (a v1/v5/v7 record
// carries no rate of its own). The general path stays the reference: it serves when
// code generation is disallowed, and netflow-fixed.test.ts compares the two.
import { type FixedLayout, slotExpression } from '../protocol/netflow/legacy.js';
import type { PacketContext, RecordLayout } from '../protocol/templates/types.js';
import { A, actionOf, STORES } from './netflow-lift.js';
import { NetflowRecord } from './netflow-record.js';
import { ADDRESS_OF, FIRST_IPV4, finishCode } from './netflow-sets.js';
import type { ExporterInfo, FlowRecord, SamplingSource } from './record.js';
import { type RecordPool, takeRecordCode } from './record-pool.js';
import { fromUptime } from './uptime.js';

/** Makes the records of `count` fixed-layout records from `start` on into `out[0..count)`. */
export type FixedProducer = (
  buf: Uint8Array,
  view: DataView,
  start: number,
  count: number,
  ctx: PacketContext,
  exporter: ExporterInfo,
  samplingRate: number | undefined,
  samplingSource: SamplingSource | undefined,
  out: FlowRecord[],
  host: RecordPool,
) => void;

/**
 * The actions of v1/v5/v7 fields that store the field's number in a record member (STORES)
 * and do nothing else. Of those members, NetflowProducer.record reads only protocol and
 * dstPort again after the lift (the ICMP rule, applied here from the locals), and bytes
 * and packets, to fill them from totals, which a layout taken here has none of (a total
 * is not in this set). A layout with any other action is left to the general path.
 */
const PLAIN = new Set<number>([
  A.inInterface,
  A.outInterface,
  A.packets,
  A.bytes,
  A.srcPort,
  A.dstPort,
  A.tcpFlags,
  A.protocol,
  A.tos,
  A.srcAs,
  A.dstAs,
  A.srcMask,
  A.dstMask,
]);

type Factory = (
  layout: RecordLayout,
  netflowRecord: typeof NetflowRecord,
  fromUptimeFn: typeof fromUptime,
) => FixedProducer;

/**
 * The statements that set a record's members from the locals v0, v1...: undefined when
 * the layout has an action this file does not take (or one twice: then which field wins
 * is the general lifter's rule to apply).
 */
function memberStatements(layout: FixedLayout): string | undefined {
  let code = '';
  const seen = new Set<number>();
  // The uptime stamps, as the set producers keep them: lift state members as locals,
  // resolved with the ICMP rule by finishLift's generated rules.
  const times = new Set<string>();
  for (const [i, slot] of layout.slots.entries()) {
    const action = actionOf(slot.info);
    if (action === A.skip) continue;
    if (seen.has(action)) return undefined;
    seen.add(action);
    const v = `v${i}`;
    const address = action === A.src6 || action === A.dst6 ? undefined : ADDRESS_OF.get(action);
    if (address !== undefined) {
      // An address field read as text would take the text lift.
      if (slot.kind !== 'ip') return undefined;
      code += `${FIRST_IPV4[address].replace('$', v)}\n`;
    } else if (slot.kind === 'ip') {
      return undefined;
    } else if (PLAIN.has(action)) {
      code += `${STORES.get(action)} = ${v};\n`;
    } else if (action === A.startUp || action === A.endUp) {
      const member = action === A.startUp ? 'startUp' : 'endUp';
      times.add(member);
      code += `const s_${member} = ${v};\n`;
    } else {
      return undefined;
    }
  }
  // After the lift, as NetflowProducer.record: times from the uptime stamps, then ICMP
  // type and code from the destination port (v1/v5/v7 have no type/code field).
  return code + finishCode(times);
}

/**
 * The generated producer of a fixed layout; undefined when code generation is disallowed
 * or the layout has an action not taken here.
 */
function compileFixedProducer(layout: FixedLayout): FixedProducer | undefined {
  const members = memberStatements(layout);
  if (members === undefined) return undefined;
  const reads = layout.slots
    .map((s, i) => `const v${i} = ${slotExpression(s.kind, `base + ${s.offset}`)};\n`)
    .join('');
  const values = layout.slots.map((_, i) => `v${i}`);
  const code = `
    return function produceFixed(buf, view, start, count, ctx, exporter, rate, source, out, host) {
      const receivedMs = ctx.receivedMs;
      const pool = host.pool;
      for (let i = 0, base = start; i < count; i++, base += ${layout.record}) {
        ${reads}
        ${takeRecordCode(values)}
        ${members}
        r.samplingRate = rate;
        r.samplingSource = source;
        out[i] = r;
      }
    };`;
  try {
    const factory = new Function('layout', 'NetflowRecord', 'fromUptime', code) as Factory;
    return factory(layout.shared, NetflowRecord, fromUptime);
  } catch {
    // Code generation disallowed (node --disallow-code-generation-from-strings).
    return undefined;
  }
}

const producers = new Map<FixedLayout, FixedProducer | undefined>();

/** The generated producer of a layout, made on first use; undefined: take the general path. */
export function fixedProducerOf(layout: FixedLayout): FixedProducer | undefined {
  if (!producers.has(layout)) producers.set(layout, compileFixedProducer(layout));
  return producers.get(layout);
}
