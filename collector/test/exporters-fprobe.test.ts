// fprobe (NetFlow v1/v5/v7) captures live only: inside a network namespace the test
// creates (and always deletes), tcpreplay plays generated traffic onto a veth pair that
// fprobe listens on. One fprobe takes untagged frames, a second one (from 127.0.0.2)
// 802.1Q-tagged frames (-K 18, quirk 7). What they send is decoded by Sluice and checked
// against the generator's totals, against tshark, and for issues and sequence gaps.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type ExpectedFlow,
  fprobeExport,
  mixedFlows,
  needServer,
  tsharkPath,
  writeTraffic,
} from '@sluice/testkit';
import { type FlowDocument, toDocument } from '../src/flow/document.js';
import type { FlowRecord } from '../src/flow/record.js';
import { elementFor } from '../src/protocol/ipfix/registry/index.js';
import { decodeCapture } from './support/decode-capture.js';
import { flatten, tsharkExports } from './support/oracle.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const DIR = mkdtempSync(join(tmpdir(), 'sluice-fprobe-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const TRAFFIC = join(DIR, 'traffic.pcap');
// fprobe knows IPv4 only. Replayed with the capture's own timing (about 0.5 s).
const GENERATED = writeTraffic(TRAFFIC, mixedFlows(T0, { ipv6: false, bulk: 40 }), { seed: 7 });

/** ms stamps (fprobe) of packets that tcpreplay sent on time: at most this early. */
const EARLY_MS = 2;

function get(doc: FlowDocument, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const isIcmp = (p: number | undefined) => p === 1 || p === 58;

/** fprobe puts the ICMP type in the source port and the code in the destination port. */
function ports(f: ExpectedFlow): [number, number] {
  return isIcmp(f.protocol) ? [f.icmpType ?? 0, f.icmpCode ?? 0] : [f.srcPort, f.dstPort];
}

const keyOf = (src: unknown, sp: unknown, dst: unknown, dp: unknown, proto: unknown) =>
  `${src} ${sp} > ${dst} ${dp} proto ${proto}`;

const el = (id: number) => `netflow.${elementFor(0, id).field}`;
/** tshark cflow field -> our document path (all numbers but addresses). */
const FIELDS: Record<string, string> = {
  'cflow.octets': el(1),
  'cflow.packets': el(2),
  'cflow.protocol': el(4),
  'cflow.tos': el(5),
  'cflow.tcpflags': el(6),
  'cflow.srcport': el(7),
  'cflow.srcaddr': el(8),
  'cflow.srcmask': el(9),
  'cflow.inputint': el(10),
  'cflow.dstport': el(11),
  'cflow.dstaddr': el(12),
  'cflow.dstmask': el(13),
  'cflow.outputint': el(14),
  'cflow.nexthop': el(15),
  'cflow.srcas': el(16),
  'cflow.dstas': el(17),
  'cflow.routersc': 'netflow.router_sc',
  'cflow.timedelta': 'event.duration',
};
const ADDRESSES = new Set(['cflow.srcaddr', 'cflow.dstaddr', 'cflow.nexthop', 'cflow.routersc']);
// v7's flags byte (offset 36) is not kept by the v7 decoder; padding is padding.
const IGNORED = /^cflow\.(padding|reserved|flags)$/;

describe('fprobe (live capture in a network namespace)', { concurrency: 3 }, () => {
  for (const version of [1, 5, 7] as const) {
    it(`fprobe NetFlow v${version}`, async (t) => {
      if (!(await needServer(t, async () => tsharkPath()))) return;
      const dir = mkdtempSync(join(DIR, `v${version}-`));
      const cap = await needServer(t, () =>
        fprobeExport({ pcap: TRAFFIC, dir, version, vlanInstance: true }),
      );
      if (!cap) return;
      const replay = cap.replayed;
      assert.ok(replay, 'replay times known');

      const { perDatagram, issues, stats } = decodeCapture(cap);
      const records = perDatagram.flat();

      await t.test('(a) every generated flow with its exact totals', () => {
        const byKey = new Map<string, FlowRecord[]>();
        for (const r of records) {
          const k = keyOf(r.srcAddr, r.srcPort, r.dstAddr, r.dstPort, r.protocol);
          byKey.set(k, [...(byKey.get(k) ?? []), r]);
        }
        const first = Math.min(...GENERATED.flows.map((f) => f.firstMs));
        let firstSeen = Number.POSITIVE_INFINITY;
        for (const r of records) firstSeen = Math.min(firstSeen, r.startMs ?? firstSeen);
        for (const f of GENERATED.flows) {
          const [sp, dp] = ports(f);
          const key = keyOf(f.src, sp, f.dst, dp, f.protocol);
          const found = byKey.get(key) ?? [];
          assert.equal(found.length, 1, `${key}: exported once`);
          const r = found[0] as FlowRecord;
          // Untagged frames go to the first fprobe, tagged ones to the second.
          assert.equal(
            r.exporter.address,
            f.vlan === undefined ? '127.0.0.1' : '127.0.0.2',
            `${key}: exporter`,
          );
          assert.equal(r.packets, f.packets, `${key}: packets`);
          assert.equal(r.bytes, f.bytes, `${key}: bytes (IP total length)`);
          assert.equal(r.tcpFlags, f.tcpFlags ?? 0, `${key}: TCP flags`);
          assert.equal(r.tos, f.tos, `${key}: TOS`);
          // Live capture: the times are the replay's. Each flow starts and ends within
          // the replay; tcpreplay may fall behind the capture's timing on a busy machine
          // but never runs ahead of it, so offsets and durations are at least the
          // capture's (a wrong clock anchor or unit fails these).
          const start = r.startMs ?? Number.NaN;
          const end = r.endMs ?? Number.NaN;
          assert.ok(start >= replay.fromMs - 1 && end <= replay.toMs + 1, `${key}: during replay`);
          assert.ok(
            start - firstSeen >= f.firstMs - first - EARLY_MS,
            `${key}: start offset ${start - firstSeen} vs ${f.firstMs - first}`,
          );
          assert.ok(
            end - start >= f.lastMs - f.firstMs - EARLY_MS,
            `${key}: duration ${end - start} vs ${f.lastMs - f.firstMs}`,
          );
          const doc = toDocument(r);
          assert.equal(get(doc, 'source.ip'), f.src, `${key}: source.ip`);
          assert.equal(get(doc, 'destination.ip'), f.dst, `${key}: destination.ip`);
          assert.equal(get(doc, 'network.bytes'), f.bytes, `${key}: network.bytes`);
          assert.equal(get(doc, 'network.packets'), f.packets, `${key}: network.packets`);
          assert.equal(get(doc, 'network.iana_number'), String(f.protocol), key);
          if (!isIcmp(f.protocol)) {
            assert.equal(get(doc, 'source.port'), f.srcPort, `${key}: source.port`);
            assert.equal(get(doc, 'destination.port'), f.dstPort, `${key}: destination.port`);
          }
        }
        assert.equal(
          records.length,
          GENERATED.flows.length,
          'no records beyond the generated flows',
        );
        t.diagnostic(`${GENERATED.flows.length} flows matched the generator's totals`);
      });

      await t.test('(b) the same values as tshark, field by field', () => {
        const exports = tsharkExports(cap.pcap, cap.collector.port);
        assert.equal(exports.length, cap.datagrams.length, 'tshark sees every datagram');
        let compared = 0;
        exports.forEach((e, i) => {
          const ours = perDatagram[i] as FlowRecord[];
          assert.equal(ours.length, e.flows.length, `datagram ${i + 1}: as many records`);
          const h = flatten(e.header);
          // The header's clock: ms since the epoch at uptime 0.
          const anchor =
            Number(h['cflow.unix_secs']) * 1000 +
            Number(h['cflow.unix_nsecs'] ?? 0) / 1e6 -
            Number(h['cflow.sysuptime']) * 1000;
          e.flows.forEach((tf, k) => {
            const doc = toDocument(ours[k] as FlowRecord);
            const at = `datagram ${i + 1} record ${k + 1}`;
            assert.equal(get(doc, 'netflow.exporter.version'), version, at);
            if (h['cflow.sequence'] !== undefined)
              assert.equal(get(doc, 'netflow.exporter.sequence'), Number(h['cflow.sequence']), at);
            for (const [name, value] of Object.entries(flatten(tf.fields))) {
              if (IGNORED.test(name)) continue;
              if (name === 'cflow.timestart' || name === 'cflow.timeend') {
                const path = name === 'cflow.timestart' ? 'event.start' : 'event.end';
                const theirs = anchor + Number(value) * 1000;
                const got = Date.parse(String(get(doc, path)));
                assert.ok(Math.abs(got - theirs) < 1, `${at}: ${path} ${got} vs tshark ${theirs}`);
              } else {
                const path = FIELDS[name];
                assert.ok(path, `${at}: tshark field ${name} has no counterpart in this test`);
                const got = get(doc, path);
                if (name === 'cflow.timedelta')
                  assert.equal(got, Math.round(Number(value) * 1e9), `${at}: ${path}`);
                else if (ADDRESSES.has(name)) assert.equal(got, String(value), `${at}: ${path}`);
                else assert.equal(got, Number(value), `${at}: ${path} vs ${name}`);
              }
              compared += 1;
            }
          });
        });
        assert.ok(compared > 100, 'fields were compared');
        t.diagnostic(`${compared} field values equal to tshark's`);
      });

      await t.test('(c) no decode issues, no sequence gaps', () => {
        assert.deepEqual(issues, []);
        assert.deepEqual(stats.map(([ex]) => ex).sort(), ['127.0.0.1', '127.0.0.2']);
        for (const [ex, s] of stats) {
          assert.deepEqual(s.errors, {}, `${ex}: errors`);
          assert.equal(s.sequenceGaps, 0, `${ex}: gaps`);
          assert.equal(s.sequenceResets, 0, `${ex}: resets`);
        }
      });
    });
  }
});
