// Synthetic flow records for the query benchmark: a day of traffic from 16 exporters,
// skewed (a few hosts and ports carry most of it, as in real networks) so top-N rankings
// have a head and a long tail. Deterministic: the same seed gives the same records.
import type { FlowRecord } from '../../collector/src/flow/record.js';

/** The benchmark's day (UTC): fixed, so runs are comparable. */
export const DAY_START_MS = Date.UTC(2024, 5, 1);
export const DAY_MS = 86_400_000;

/** mulberry32: a small, fast, seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const EXPORTERS = Array.from({ length: 16 }, (_, i) =>
  i < 8 ? `192.0.2.${i + 1}` : `198.51.100.${i * 3}`,
);
const RATES = [1, 100, 512, 1000];
const TCP_PORTS = [443, 443, 443, 80, 80, 22, 25, 3389, 8080, 993];
const UDP_PORTS = [53, 53, 123, 443, 161, 514, 4789, 5060];

function v4(prefix: string, n: number): string {
  return `${prefix}.${(n >> 8) & 255}.${n & 255}`;
}

/** Record `i` of `total`, spread evenly over the day (with jitter), in time order. */
export function syntheticRecord(i: number, total: number, rand: () => number): FlowRecord {
  const endMs = DAY_START_MS + Math.floor((i * DAY_MS) / total) + Math.floor(rand() * 1000);
  const ex = Math.floor(rand() ** 2 * EXPORTERS.length);
  const exporter = EXPORTERS[ex] ?? '192.0.2.1';
  const r = rand();
  const protocol = r < 0.7 ? 6 : r < 0.95 ? 17 : 1;
  const v6 = rand() < 0.05;
  const src = Math.floor(rand() ** 3 * 50_000);
  const dst = Math.floor(rand() ** 2 * 20_000);
  const srcAddr = v6 ? `2001:db8:1::${src.toString(16)}` : v4(`10.${(src >> 16) & 255}`, src);
  const dstAddr = v6 ? `2001:db8:2::${dst.toString(16)}` : v4('172.16', dst);
  const ephemeral = 32_768 + Math.floor(rand() * 28_000);
  const ports = protocol === 6 ? TCP_PORTS : UDP_PORTS;
  const dstPort =
    protocol === 1
      ? undefined
      : rand() < 0.85
        ? (ports[Math.floor(rand() * ports.length)] ?? 443)
        : 1024 + Math.floor(rand() * 30_000);
  const packets = Math.max(1, Math.floor(Math.exp(rand() * 7)));
  const bytes = packets * (40 + Math.floor(rand() * 1460));
  return {
    kind: 'flow',
    exporter: {
      address: exporter,
      port: 2055,
      protocol: ex % 4 === 3 ? 'sflow' : 'netflow',
      version: ex % 4 === 3 ? 5 : ex % 4 === 2 ? 10 : 9,
      domain: 0,
      sequence: i,
      uptimeMs: undefined,
      exportTimeMs: endMs + 1000,
    },
    receivedMs: endMs + 1100,
    startMs: endMs - Math.floor(rand() * 60_000),
    endMs,
    srcAddr,
    dstAddr,
    srcPort: protocol === 1 ? undefined : ephemeral,
    dstPort,
    protocol,
    ipVersion: v6 ? 6 : 4,
    bytes,
    packets,
    inInterface: 1 + (src % 8),
    outInterface: 10 + (dst % 4),
    tcpFlags: protocol === 6 ? 0x1b : undefined,
    samplingRate: RATES[ex % RATES.length],
    samplingSource: ex % 4 === 3 ? 'sample' : 'options',
    direction: 'ingress',
    fields: [],
  };
}
