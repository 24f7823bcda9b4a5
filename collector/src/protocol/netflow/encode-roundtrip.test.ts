// decode(encode(x)) == x for the NetFlow v5, v9 and IPFIX encoders, property-tested
// against Sluice's own decoders (legacy.ts, v9.ts, ipfix.ts), which are tested against
// tshark and real exporters elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv4ToString, ipv6ToString } from '../address.js';
import {
  encodeIpfix,
  IPFIX_FLOW_TEMPLATES as IPFIX_T,
  ipfixDataRecords,
  ipfixSize,
} from '../ipfix/encode.js';
import { decodeIpfix } from '../ipfix/ipfix.js';
import { TemplateStore } from '../templates/store.js';
import type { DataRecord, FieldValue } from '../templates/types.js';
import type { ExportFlow, SamplingInfo } from './encode-flow.js';
import type { TemplateMessage } from './encode-sets.js';
import { encodeNetflowV5, V5_MAX_RECORDS } from './encode-v5.js';
import { encodeNetflowV9, netflowV9Size, V9_FLOW_TEMPLATES } from './encode-v9.js';
import { decodeNetflowLegacy } from './legacy.js';
import type { ExportResult } from './result.js';
import { decodeNetflowV9 } from './v9.js';

const RUNS = Number(process.env.SLUICE_FUZZ_RUNS ?? 200);
const EXPORTER = '192.0.2.9';

/** Boot time on whole seconds, as the exporter chooses it; flows within 2^31 ms after. */
const BOOT = fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }).map((s) => s * 1000);

const v4addr = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipv4ToString(b));
const v6addr = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ipv6ToString(b));

interface Limits {
  v6: boolean;
  counter: number;
  ifIndex: number;
  flags: number;
}

function flowArb(boot: number, lim: Limits): fc.Arbitrary<ExportFlow> {
  return fc
    .record({
      v6: lim.v6 ? fc.boolean() : fc.constant(false),
      a4: v4addr,
      b4: v4addr,
      a6: v6addr,
      b6: v6addr,
      protocol: fc.oneof(fc.constantFrom(1, 6, 17, 58), fc.integer({ min: 0, max: 255 })),
      srcPort: fc.integer({ min: 0, max: 65535 }),
      dstPort: fc.integer({ min: 0, max: 65535 }),
      tos: fc.integer({ min: 0, max: 255 }),
      tcpFlags: fc.integer({ min: 0, max: lim.flags }),
      packets: fc.integer({ min: 1, max: lim.counter }),
      bytes: fc.integer({ min: 0, max: lim.counter }),
      start: fc.integer({ min: 0, max: 2 ** 31 - 10_000_000 }),
      duration: fc.integer({ min: 0, max: 10_000_000 }),
      inIf: fc.integer({ min: 0, max: lim.ifIndex }),
      outIf: fc.integer({ min: 0, max: lim.ifIndex }),
      vlan: fc.integer({ min: 0, max: 4095 }),
      innerVlan: fc.integer({ min: 0, max: 4095 }),
    })
    .map((r) => ({
      ipVersion: r.v6 ? 6 : 4,
      srcAddr: r.v6 ? r.a6 : r.a4,
      dstAddr: r.v6 ? r.b6 : r.b4,
      srcPort: r.srcPort,
      dstPort: r.dstPort,
      protocol: r.protocol,
      tos: r.tos,
      tcpFlags: r.tcpFlags,
      packets: r.packets,
      bytes: r.bytes,
      startMs: boot + r.start,
      endMs: boot + r.start + r.duration,
      inIf: r.inIf,
      outIf: r.outIf,
      vlan: r.vlan,
      innerVlan: r.innerVlan,
    }));
}

const num = (v: FieldValue | undefined): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new Error(`not a number: ${String(v)}`);
};

/** A decoded record back to the flow it describes, through the IANA element ids. */
function toFlow(r: DataRecord, res: ExportResult, v5: boolean, v9 = false): ExportFlow {
  const by = new Map<number, FieldValue>();
  for (const f of r.fields) if (f.info.enterprise === 0) by.set(f.info.id, f.value);
  const ctx = res.ctx;
  assert.ok(ctx);
  const boot = ctx.sysUptimeMs === undefined ? 0 : ctx.exportTimeMs - ctx.sysUptimeMs;
  const time = (abs: number, up: number) =>
    by.has(abs) ? num(by.get(abs)) : boot + num(by.get(up));
  const v6 = by.has(27);
  const protocol = num(by.get(4));
  const dstPort = num(by.get(11));
  if (!v5) {
    // The ICMP type/code element repeats the destination port for ICMP, 0 otherwise.
    // v9: ICMP_TYPE (32) for ICMP and ICMPv6; IPFIX: icmpTypeCodeIPv4 / IPv6 (32 / 139).
    const icmp = num(by.get(v6 && !v9 ? 139 : 32));
    const icmpProto = v9 ? protocol === 1 || protocol === 58 : protocol === (v6 ? 58 : 1);
    assert.equal(icmp, icmpProto ? dstPort : 0, 'ICMP type/code element');
    assert.equal(num(by.get(60)), v6 ? 6 : 4, 'ipVersion element');
  }
  return {
    ipVersion: v6 ? 6 : 4,
    srcAddr: String(by.get(v6 ? 27 : 8)),
    dstAddr: String(by.get(v6 ? 28 : 12)),
    srcPort: num(by.get(7)),
    dstPort,
    protocol,
    tos: num(by.get(5)),
    tcpFlags: num(by.get(6)),
    packets: num(by.get(2)),
    bytes: num(by.get(1)),
    startMs: time(152, 22),
    endMs: time(153, 21),
    inIf: num(by.get(10)),
    outIf: num(by.get(14)),
    vlan: v5 ? 0 : num(by.get(243) ?? by.get(58)),
    innerVlan: v5 ? 0 : num(by.get(245)),
  };
}

const V5_LIMITS: Limits = { v6: false, counter: 0xffffffff, ifIndex: 0xffff, flags: 0xff };
const WIDE: Limits = {
  v6: true,
  counter: Number.MAX_SAFE_INTEGER,
  ifIndex: 0xffffffff,
  flags: 0xff,
};

test('NetFlow v5: decode(encode(header, records)) gives back header and records', () => {
  const arb = BOOT.chain((boot) =>
    fc.record({
      boot: fc.constant(boot),
      uptime: fc.integer({ min: 2 ** 31, max: 2 ** 32 - 1 }),
      sequence: fc.nat(),
      engineType: fc.integer({ min: 0, max: 255 }),
      engineId: fc.integer({ min: 0, max: 255 }),
      sampling: fc.integer({ min: 0, max: 0x3fff }),
      flows: fc.array(
        flowArb(boot, V5_LIMITS).map((f) => ({ ...f, vlan: 0, innerVlan: 0 })),
        { maxLength: V5_MAX_RECORDS },
      ),
    }),
  );
  fc.assert(
    fc.property(arb, (x) => {
      const exportMs = x.boot + x.uptime;
      const bytes = encodeNetflowV5(
        {
          sysUptimeMs: x.uptime,
          unixSecs: Math.floor(exportMs / 1000),
          unixNsecs: (exportMs % 1000) * 1_000_000,
          sequence: x.sequence,
          engineType: x.engineType,
          engineId: x.engineId,
          samplingMode: x.sampling > 0 ? 1 : 0,
          samplingInterval: x.sampling,
        },
        x.flows,
      );
      assert.equal(bytes.length, 24 + 48 * x.flows.length);
      const res = decodeNetflowLegacy(bytes, {
        exporter: EXPORTER,
        receivedMs: 0,
        store: new TemplateStore(),
      });
      assert.deepEqual(res.issues, []);
      assert.equal(res.ctx?.sequence, x.sequence);
      assert.equal(res.ctx?.domain, (x.engineType << 8) | x.engineId);
      assert.equal(res.ctx?.exportTimeMs, exportMs);
      assert.deepEqual(res.sampling, { mode: x.sampling > 0 ? 1 : 0, interval: x.sampling });
      assert.equal(res.sequenceIncrement, x.flows.length);
      assert.deepEqual(
        res.records.map((r) => toFlow(r, res, true)),
        x.flows,
      );
    }),
    { numRuns: RUNS },
  );
  assert.throws(
    () =>
      encodeNetflowV5(
        {
          sysUptimeMs: 0,
          unixSecs: 0,
          unixNsecs: 0,
          sequence: 0,
          engineType: 0,
          engineId: 0,
          samplingMode: 0,
          samplingInterval: 0,
        },
        new Array<ExportFlow>(31).fill({
          ipVersion: 4,
          srcAddr: '1.2.3.4',
          dstAddr: '1.2.3.4',
          srcPort: 0,
          dstPort: 0,
          protocol: 6,
          tos: 0,
          tcpFlags: 0,
          packets: 1,
          bytes: 40,
          startMs: 0,
          endMs: 0,
          inIf: 0,
          outIf: 0,
          vlan: 0,
          innerVlan: 0,
        }),
      ),
    /at most 30/,
  );
});

const samplingArb: fc.Arbitrary<SamplingInfo | undefined> = fc.option(
  fc.record({
    interval: fc.integer({ min: 1, max: 0xffffffff }),
    algorithm: fc.constantFrom<1 | 2>(1, 2),
  }),
  { nil: undefined },
);

/** A message, and whether its templates come in this message or in an earlier one. */
function messageArb(boot: number, flags: number) {
  return fc.record({
    boot: fc.constant(boot),
    uptime: fc.integer({ min: 2 ** 31, max: 2 ** 32 - 1000 }),
    sequence: fc.nat(),
    domain: fc.nat(),
    sampling: samplingArb,
    templatesFirst: fc.boolean(),
    flows: fc.array(flowArb(boot, { ...WIDE, flags }), { maxLength: 40 }),
  });
}

/** Flows in the order the encoder writes them: IPv4 set first, then IPv6. */
const setOrder = (flows: readonly ExportFlow[]) => [
  ...flows.filter((f) => f.ipVersion === 4),
  ...flows.filter((f) => f.ipVersion === 6),
];

test('NetFlow v9: decode(encode(header, templates + sampling options + data)) gives back all', () => {
  fc.assert(
    fc.property(
      BOOT.chain((b) => messageArb(b, 0xff)),
      (x) => {
        const store = new TemplateStore();
        const input = { exporter: EXPORTER, receivedMs: 0, store };
        const unixSecs = Math.floor((x.boot + x.uptime) / 1000);
        const header = {
          sysUptimeMs: unixSecs * 1000 - x.boot,
          unixSecs,
          sequence: x.sequence,
          sourceId: x.domain,
        };
        const templates = [V9_FLOW_TEMPLATES[4], V9_FLOW_TEMPLATES[6]];
        const full: TemplateMessage = {
          templates,
          optionsTemplate: x.sampling !== undefined,
          sampling: x.sampling,
          flows: x.flows,
        };
        const records: DataRecord[] = [];
        let last: ExportResult | undefined;
        const parts: TemplateMessage[] = x.templatesFirst
          ? [
              { templates, optionsTemplate: full.optionsTemplate, sampling: undefined, flows: [] },
              { templates: [], optionsTemplate: false, sampling: x.sampling, flows: x.flows },
            ]
          : [full];
        parts.forEach((m, i) => {
          const bytes = encodeNetflowV9({ ...header, sequence: x.sequence + i }, m);
          assert.equal(bytes.length, netflowV9Size(m));
          assert.equal(bytes.length % 4, 0, 'flowsets padded to 4 bytes');
          const res = decodeNetflowV9(bytes, input);
          assert.deepEqual(res.issues, []);
          assert.equal(res.ctx?.sequence, (x.sequence + i) >>> 0);
          assert.equal(res.ctx?.domain, x.domain);
          assert.equal(res.held, 0);
          assert.equal(res.sequenceIncrement, 1);
          assert.equal(
            new DataView(bytes.buffer).getUint16(2),
            m.templates.length +
              (m.optionsTemplate ? 1 : 0) +
              (m.sampling ? 1 : 0) +
              m.flows.length,
            'count',
          );
          records.push(...res.records);
          last = res;
        });
        assert.ok(last);
        const options = records.filter((r) => r.options);
        const flows = records.filter((r) => !r.options);
        assert.deepEqual(
          flows.map((r) => toFlow(r, last as ExportResult, false, true)),
          setOrder(x.flows),
        );
        if (x.sampling) {
          assert.equal(options.length, 1);
          const o = Object.fromEntries(
            (options[0] as DataRecord).fields.map((f) => [f.info.field, f.value]),
          );
          assert.equal(o.scope_system, x.domain);
          assert.equal(o.sampling_interval, x.sampling.interval);
          assert.equal(o.sampling_algorithm, x.sampling.algorithm);
        } else assert.equal(options.length, 0);
      },
    ),
    { numRuns: RUNS },
  );
});

test('IPFIX: decode(encode(header, templates + sampling options + data)) gives back all', () => {
  fc.assert(
    fc.property(
      BOOT.chain((b) => messageArb(b, 0xffff)),
      (x) => {
        const store = new TemplateStore();
        const input = { exporter: EXPORTER, receivedMs: 0, store };
        const templates = [IPFIX_T[4], IPFIX_T[6]];
        const parts: TemplateMessage[] = x.templatesFirst
          ? [
              {
                templates,
                optionsTemplate: x.sampling !== undefined,
                sampling: undefined,
                flows: [],
              },
              { templates: [], optionsTemplate: false, sampling: x.sampling, flows: x.flows },
            ]
          : [
              {
                templates,
                optionsTemplate: x.sampling !== undefined,
                sampling: x.sampling,
                flows: x.flows,
              },
            ];
        const records: DataRecord[] = [];
        let sequence = x.sequence;
        for (const m of parts) {
          const bytes = encodeIpfix(
            { exportSecs: Math.floor((x.boot + x.uptime) / 1000), sequence, domain: x.domain },
            m,
          );
          assert.equal(bytes.length, ipfixSize(m));
          const res = decodeIpfix(bytes, input);
          assert.deepEqual(res.issues, []);
          assert.equal(res.ctx?.sequence, sequence >>> 0);
          assert.equal(res.ctx?.domain, x.domain);
          assert.equal(res.sequenceIncrement, ipfixDataRecords(m), 'data records counted');
          sequence += ipfixDataRecords(m);
          records.push(...res.records);
        }
        const flows = records.filter((r) => !r.options);
        const dummy = {
          ctx: { sysUptimeMs: undefined, exportTimeMs: 0 },
        } as unknown as ExportResult;
        assert.deepEqual(
          flows.map((r) => toFlow(r, dummy, false)),
          setOrder(x.flows),
        );
        const options = records.filter((r) => r.options);
        if (x.sampling) {
          assert.equal(options.length, 1);
          const o = Object.fromEntries(
            (options[0] as DataRecord).fields.map((f) => [f.info.name, f.value]),
          );
          assert.equal(o.observationDomainId, x.domain);
          assert.equal(o.samplingInterval, x.sampling.interval);
          assert.equal(o.samplingAlgorithm, x.sampling.algorithm);
        } else assert.equal(options.length, 0);
      },
    ),
    { numRuns: RUNS },
  );
});

test('address writers: RFC 5952 text and other spellings give the same bytes', async () => {
  const { writeIpv6, writeIpv4 } = await import('./encode-flow.js');
  const b = new Uint8Array(16);
  for (const [text, canon] of [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['fe80::1:2:3:4:5:6', 'fe80:0:1:2:3:4:5:6'],
  ] as const) {
    writeIpv6(b, 0, text);
    assert.equal(ipv6ToString(b), canon, text);
  }
  for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'x::']) {
    assert.throws(() => writeIpv6(b, 0, bad), /not an IPv6/, bad);
  }
  writeIpv4(b, 0, '203.0.113.255');
  assert.equal(ipv4ToString(b), '203.0.113.255');
  assert.throws(() => writeIpv4(b, 0, '1.2.3'), /not an IPv4/);
  assert.throws(() => writeIpv4(b, 0, '1.2.3.256'), /not an IPv4/);
});
