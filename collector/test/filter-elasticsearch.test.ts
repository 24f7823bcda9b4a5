// Compiled filters against the real Elasticsearch: ~200 records with known values go
// through Sluice's own document builder into a data stream with Sluice's index template;
// for each filter, the ids Elasticsearch returns must be exactly the records that an
// independent evaluator (plain TypeScript over the FlowRecord objects, below) selects.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer } from '@sluice/testkit';
import { toDocument } from '../src/flow/document.js';
import type { FlowRecord } from '../src/flow/record.js';
import { lookupElement } from '../src/protocol/ipfix/registry/index.js';
import type { FlowField } from '../src/protocol/templates/types.js';
import { compileFilter, formatFilterError } from '../src/query/filter/compile.js';
import { dataStreamParts, installIndexTemplate } from '../src/sink/elasticsearch/template.js';

/** Deterministic PRNG (mulberry32) so every run indexes the same records. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const V4 = [
  '10.0.0.1',
  '10.0.0.2',
  '10.0.0.77',
  '10.9.8.7',
  '192.168.1.10',
  '192.168.2.20',
  '203.0.113.5',
  '198.51.100.9',
];
const V6 = ['2001:db8::1', '2001:db8::2', '2001:db8:1::5', 'fd00::1', 'fd00::abcd', '2001:db9::1'];
const PROTOCOLS = [6, 6, 6, 17, 17, 1, 58, 47, 50];
const SERVICES = [80, 443, 53, 22, 123, 1023, 1024, 8080];
const AS = [64512, 64513, 65001, 65535, 4_200_000_001, 15169];
const FLAGS = [0x02, 0x12, 0x18, 0x11, 0x1b, 0x04, 0x10, 0x3f];
const EXPORTERS = ['192.0.2.1', '192.0.2.2', '2001:db8:ffff::1'];
const TCP_CONTROL_BITS = lookupElement(0, 6);
const OCTET_DELTA_COUNT = lookupElement(0, 1);

function records(n: number): FlowRecord[] {
  const rand = prng(20240611);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const maybe = <T>(p: number, v: () => T): T | undefined => (rand() < p ? v() : undefined);
  const base = Date.parse('2024-06-11T10:00:00Z');
  const out: FlowRecord[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = rand() < 0.3;
    const pool = v6 ? V6 : V4;
    const protocol = v6 && rand() < 0.2 ? 58 : pick(PROTOCOLS.filter((p) => p !== (v6 ? 1 : 58)));
    const ported = protocol === 6 || protocol === 17;
    const service = pick(SERVICES);
    const ephemeral = 1024 + Math.floor(rand() * 60000);
    const toService = rand() < 0.6;
    const bytes = Math.round(10 ** (1.6 + rand() * 5.2));
    const packets = Math.max(1, Math.round(bytes / (40 + rand() * 1400)));
    const biflow = rand() < 0.25;
    const reverseBytes = biflow ? Math.round(10 ** (1.6 + rand() * 4)) : undefined;
    const endMs = base + i * 1000;
    const duration = rand() < 0.1 ? 0 : Math.floor(rand() * 5000);
    const timed = rand() < 0.85;
    const tcpFlags =
      protocol === 6 ? (rand() < 0.7 ? pick(FLAGS) : Math.floor(rand() * 256)) : undefined;
    const fields: FlowField[] = [];
    if (TCP_CONTROL_BITS && tcpFlags !== undefined)
      fields.push({ info: TCP_CONTROL_BITS, value: tcpFlags });
    if (OCTET_DELTA_COUNT) fields.push({ info: OCTET_DELTA_COUNT, value: bytes });
    out.push({
      kind: 'flow',
      exporter: {
        address: pick(EXPORTERS),
        port: 2055,
        protocol: 'netflow',
        version: 10,
        domain: 0,
        sequence: i,
        uptimeMs: undefined,
        exportTimeMs: undefined,
      },
      receivedMs: endMs + 500,
      startMs: timed ? endMs - duration : undefined,
      endMs: timed ? endMs : undefined,
      srcAddr: pick(pool),
      dstAddr: pick(pool),
      srcPort: ported ? (toService ? ephemeral : service) : undefined,
      dstPort: ported ? (toService ? service : ephemeral) : undefined,
      protocol,
      ipVersion: v6 ? 6 : 4,
      bytes,
      packets,
      reverseBytes,
      reversePackets: biflow ? Math.max(1, Math.round((reverseBytes ?? 0) / 500)) : undefined,
      vlan: maybe(0.6, () => pick([10, 20, 30])),
      inInterface: maybe(0.9, () => 1 + Math.floor(rand() * 6)),
      outInterface: maybe(0.9, () => 1 + Math.floor(rand() * 6)),
      srcAs: maybe(0.8, () => pick(AS)),
      dstAs: maybe(0.8, () => pick(AS)),
      tcpFlags,
      direction: pick(['ingress', 'egress', undefined] as const),
      samplingRate: 1,
      samplingSource: 'header',
      fields,
    });
  }
  return out;
}

// ---- The independent evaluator: nfdump's meaning, stated over the records. ----

type Pred = (r: FlowRecord) => boolean;

/** Address in a network (or equal to an address), by node's BlockList. */
function within(addr: string | undefined, net: string): boolean {
  if (addr === undefined) return false;
  const [base = '', bits] = net.split('/');
  const family = isIPv4(base) ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  if (bits === undefined) list.addAddress(base, family);
  else list.addSubnet(base, Number(bits), family);
  return list.check(addr, isIPv4(addr) ? 'ipv4' : 'ipv6');
}

const srcIn =
  (net: string): Pred =>
  (r) =>
    within(r.srcAddr, net);
const dstIn =
  (net: string): Pred =>
  (r) =>
    within(r.dstAddr, net);
const ipIn =
  (net: string): Pred =>
  (r) =>
    srcIn(net)(r) || dstIn(net)(r);
const has = <T>(v: T | undefined, test: (v: T) => boolean): boolean => v !== undefined && test(v);
const total = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : a + b;
const durationMs = (r: FlowRecord): number | undefined =>
  r.startMs !== undefined && r.endMs !== undefined ? r.endMs - r.startMs : undefined;
const flagsSet =
  (mask: number): Pred =>
  (r) =>
    has(r.tcpFlags, (f) => (f & mask) === mask);

const CASES: [string, Pred][] = [
  ['any', () => true],
  ['src ip 10.0.0.1', (r) => r.srcAddr === '10.0.0.1'],
  ['ip 10.0.0.1', (r) => r.srcAddr === '10.0.0.1' || r.dstAddr === '10.0.0.1'],
  ['dst host 2001:DB8::1', (r) => r.dstAddr === '2001:db8::1'],
  ['net 10.0.0.0/8', ipIn('10.0.0.0/8')],
  ['src net 192.168.0.0/16', srcIn('192.168.0.0/16')],
  ['dst net 2001:db8::/32', dstIn('2001:db8::/32')],
  ['net 192.168.1.0 255.255.255.0', ipIn('192.168.1.0/24')],
  [
    'ip in [10.0.0.1 10.0.0.2, 2001:db8::2]',
    (r) => ['10.0.0.1', '10.0.0.2', '2001:db8::2'].some((a) => r.srcAddr === a || r.dstAddr === a),
  ],
  ['src ip in [10.0.0.0/24 fd00::/8]', (r) => srcIn('10.0.0.0/24')(r) || srcIn('fd00::/8')(r)],
  ['port 443', (r) => r.srcPort === 443 || r.dstPort === 443],
  ['src port > 1023', (r) => has(r.srcPort, (p) => p > 1023)],
  ['dst port in [80 443]', (r) => r.dstPort === 80 || r.dstPort === 443],
  ['port != 80', (r) => has(r.srcPort, (p) => p !== 80) || has(r.dstPort, (p) => p !== 80)],
  ['not port 80', (r) => !(r.srcPort === 80 || r.dstPort === 80)],
  ['dst port le 53', (r) => has(r.dstPort, (p) => p <= 53)],
  ['proto tcp', (r) => r.protocol === 6],
  ['proto udp or proto icmp', (r) => r.protocol === 17 || r.protocol === 1],
  ['proto 47', (r) => r.protocol === 47],
  ['proto icmp6', (r) => r.protocol === 58],
  ['as 64512', (r) => r.srcAs === 64512 || r.dstAs === 64512],
  ['src as > 65000', (r) => has(r.srcAs, (a) => a > 65000)],
  ['dst as in [64512 64513]', (r) => r.dstAs === 64512 || r.dstAs === 64513],
  ['in if 3', (r) => r.inInterface === 3],
  ['out if 5', (r) => r.outInterface === 5],
  ['if 3', (r) => r.inInterface === 3 || r.outInterface === 3],
  ['vlan 10', (r) => r.vlan === 10],
  ['not vlan 10', (r) => r.vlan !== 10],
  ['flags S', flagsSet(0x02)],
  ['flags SA', flagsSet(0x12)],
  ['flags S and not flags A', (r) => flagsSet(0x02)(r) && !flagsSet(0x10)(r)],
  ['flags X', flagsSet(0x3f)],
  ['bytes > 1M', (r) => has(total(r.bytes, r.reverseBytes), (b) => b > 1_000_000)],
  ['bytes < 2k', (r) => has(total(r.bytes, r.reverseBytes), (b) => b < 2000)],
  ['in bytes >= 100k', (r) => has(r.bytes, (b) => b >= 100_000)],
  ['out bytes > 0', (r) => has(r.reverseBytes, (b) => b > 0)],
  ['packets < 10', (r) => has(total(r.packets, r.reversePackets), (p) => p < 10)],
  ['duration > 1000', (r) => has(durationMs(r), (d) => d > 1000)],
  ['duration <= 100', (r) => has(durationMs(r), (d) => d <= 100)],
  ['inet6', (r) => r.ipVersion === 6],
  ['inet', (r) => r.ipVersion === 4],
  ['exporter 192.0.2.1', (r) => r.exporter.address === '192.0.2.1'],
  ['exporter 2001:db8:ffff::/48', (r) => within(r.exporter.address, '2001:db8:ffff::/48')],
  ['network.transport:udp', (r) => r.protocol === 17],
  ['netflow.exporter.ip:192.0.2.2', (r) => r.exporter.address === '192.0.2.2'],
  ['source.port:>=1024', (r) => has(r.srcPort, (p) => p >= 1024)],
  ['network.vlan.id:*', (r) => r.vlan !== undefined],
  ['network.direction:"ingress"', (r) => r.direction === 'ingress'],
  ['netflow.tcp_control_bits:>=16', (r) => has(r.tcpFlags, (f) => f >= 16)],
  [
    '(proto tcp and dst port 443) or (proto udp and dst port 53)',
    (r) => (r.protocol === 6 && r.dstPort === 443) || (r.protocol === 17 && r.dstPort === 53),
  ],
  [
    'not (inet6 or src net 10.0.0.0/8) and bytes > 10k',
    (r) =>
      !(r.ipVersion === 6 || srcIn('10.0.0.0/8')(r)) &&
      has(total(r.bytes, r.reverseBytes), (b) => b > 10_000),
  ],
  [
    'src ip 10.0.0.1 or dst net 192.168.0.0/16 and not proto tcp',
    (r) => r.srcAddr === '10.0.0.1' || (dstIn('192.168.0.0/16')(r) && r.protocol !== 6),
  ],
];

test('filters select in Elasticsearch exactly what an independent evaluator selects', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluicefilter${randomBytes(4).toString('hex')}-default`;
  t.after(async () => {
    // Best effort: the test node lacks the _data_stream endpoints; a full cluster has them.
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.indices
      .deleteIndexTemplate({ name: dataStreamParts(dataStream).prefix })
      .catch(() => {});
    await client.close();
  });
  await installIndexTemplate(client, { dataStream });

  const recs = records(200);
  const ids = recs.map((_, i) => `r${i}`);
  const bulk = await client.bulk({
    refresh: true,
    operations: recs.flatMap((r, i) => [
      { create: { _index: dataStream, _id: ids[i] } },
      toDocument(r),
    ]),
  });
  const rejected = bulk.items.filter((it) => it.create?.error);
  assert.deepEqual(rejected, [], 'every document indexed');

  for (const [filter, pred] of CASES) {
    const compiled = compileFilter(filter);
    if (!compiled.ok) assert.fail(formatFilterError(filter, compiled.error));
    const res = await client.search({
      index: dataStream,
      query: compiled.query,
      size: 1000,
      _source: false,
    });
    const got = res.hits.hits.map((h) => h._id ?? '').sort();
    const want = ids.filter((_, i) => pred(recs[i] as FlowRecord)).sort();
    assert.deepEqual(got, want, `${filter}: ${JSON.stringify(compiled.query).slice(0, 200)}`);
    // Every filter but `any` must discriminate, or the comparison proves little.
    if (filter !== 'any') {
      assert.ok(want.length > 0 && want.length < recs.length, `${filter} selects ${want.length}`);
    }
  }
});
