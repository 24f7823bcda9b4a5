// Flow records made again instead of anew, for the generated producers of a NetflowProducer
// that recycles its records (FlowDecoderOptions.recycleRecords): the records one
// produce() returned are taken back, every member reset, by the next one.
import type { NetflowRecord } from './netflow-record.js';

/**
 * Records a recycling producer keeps: a datagram with more flows than this gets new
 * objects for the rest, so that one datagram of tiny records (64 KB of 1-byte records)
 * cannot leave a pool of tens of thousands behind.
 */
export const MAX_POOLED = 1024;

/** What generated producers read and write of a producer: its pool, undefined when it does not recycle, and how many of it are in use. */
export interface RecordPool {
  readonly pool: NetflowRecord[] | undefined;
  pooled: number;
}

/**
 * Generated statements that declare `r`, a flow record of `layout` whose values are the
 * expressions `values`: the pool's next record made again, or a new record, kept in the
 * pool while it has room. The values array is refilled only when the record last had
 * the same layout: another layout's array may hold other kinds of values (text, bytes),
 * and storing numbers over them changes the array's kind in V8, which throws the
 * optimized code of every reader of it away (a capture of several templates decoded at
 * a third of its rate that way). In scope: host (RecordPool), pool (host.pool),
 * exporter, receivedMs, layout, NetflowRecord.
 */
export function takeRecordCode(values: readonly string[]): string {
  const list = values.join(', ');
  return `let r = pool !== undefined && host.pooled < pool.length ? pool[host.pooled] : undefined;
        if (r !== undefined) {
          host.pooled++;
          const vs = r.layout === layout ? r.values : undefined;
          r.recycle('flow', exporter, receivedMs, layout);
          if (vs !== undefined) {
            ${values.map((v, i) => `vs[${i}] = ${v};`).join(' ')}
          } else r.values = [${list}];
        } else {
          r = new NetflowRecord('flow', exporter, receivedMs, layout, [${list}]);
          if (pool !== undefined && pool.length < ${MAX_POOLED}) host.pooled = pool.push(r);
        }`;
}
