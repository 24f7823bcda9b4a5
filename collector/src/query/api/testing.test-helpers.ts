// Test-only: a stand-in filter compiler (Kibana-style `field:value` terms joined by
// spaces, nothing else) so the API's tests do not depend on the nfdump grammar, and
// flow records with known values whose totals the tests compute themselves.
import type { FlowRecord } from '../../flow/record.js';
import type { FilterCompileResult } from './plugin.js';

/** `field:value field:value` (all must match); empty matches everything. */
export function testCompileFilter(text: string): FilterCompileResult {
  const must: object[] = [];
  const re = /\s*([A-Za-z@_][\w.@]*):(\S+)\s*/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null || m[1] === undefined || m[2] === undefined) {
      if (text.slice(at).trim() === '') break;
      return {
        ok: false,
        error: {
          message: `expected field:value at column ${at + 1}`,
          column: at + 1,
          expected: ['field:value'],
          found: text.slice(at, at + 1),
        },
      };
    }
    const value = /^\d+$/.test(m[2]) ? Number(m[2]) : m[2];
    must.push({ term: { [m[1]]: value } });
    at = re.lastIndex;
  }
  return { ok: true, query: must.length === 0 ? { match_all: {} } : { bool: { filter: must } } };
}

/** Start of the test hour (a fixed instant, so buckets are the same on every run). */
export const BASE_MS = Date.UTC(2024, 4, 1, 10, 0, 0);
export const HOUR_MS = 3_600_000;

export const EXPORTERS = ['192.0.2.1', '192.0.2.2', '198.51.100.7', '203.0.113.9'];
const PROTOCOLS = [6, 6, 6, 17, 17, 1];
const PORTS = [443, 80, 53, 22, 8080, 123];
const RATES = [1, 10, 100, 512];

/** What a test knows of one record, independent of how Sluice stores it. */
export interface KnownRecord {
  record: FlowRecord;
  /** Sequence number: unique per record, to check paging. */
  seq: number;
  timestampMs: number;
  isFlow: boolean;
  exporter: string;
  transport: string | undefined;
  srcIp: string | undefined;
  /** Destination port as stored: ICMP flows have none. */
  dstPort: number | undefined;
  bytes: number;
  packets: number;
  scaledBytes: number;
  scaledPackets: number;
}

/**
 * `flows` flow records spread over the hour from BASE_MS (NetFlow v9 and, every fifth,
 * sFlow), several exporters, protocols, ports and sampling rates; plus `options`
 * records (no traffic counts, never counted as flows).
 */
export function knownRecords(flows = 360, options = 12): KnownRecord[] {
  const out: KnownRecord[] = [];
  for (let i = 0; i < flows; i++) {
    const endMs = BASE_MS + Math.floor((i * HOUR_MS) / flows) + ((i * 7919) % 9000);
    const sflow = i % 5 === 0;
    const exporter = EXPORTERS[(i * 7 + (i >> 3)) % EXPORTERS.length] ?? '192.0.2.1';
    const protocol = PROTOCOLS[i % PROTOCOLS.length] ?? 6;
    const port = PORTS[(i * 5 + (i >> 2)) % PORTS.length] ?? 443;
    const rate = RATES[(i >> 1) % RATES.length] ?? 1;
    const bytes = 40 + ((i * 7919) % 9000) + (exporter === '192.0.2.2' ? 3000 : 0);
    const packets = 1 + ((i * 31) % 50);
    const srcIp = `10.0.${i % 5}.${((i * 13) % 40) + 1}`;
    const record: FlowRecord = {
      kind: 'flow',
      exporter: {
        address: exporter,
        port: 2055,
        protocol: sflow ? 'sflow' : 'netflow',
        version: sflow ? 5 : 9,
        domain: 0,
        sequence: i,
        uptimeMs: undefined,
        exportTimeMs: endMs + 1000,
      },
      receivedMs: endMs + 1200,
      startMs: endMs - 5000,
      endMs,
      srcAddr: srcIp,
      dstAddr: `172.16.${i % 3}.${(i % 7) + 1}`,
      srcPort: 30_000 + i,
      dstPort: port,
      protocol,
      ipVersion: 4,
      bytes,
      packets,
      inInterface: (i % 4) + 1,
      outInterface: (i % 2) + 10,
      samplingRate: rate,
      samplingSource: sflow ? 'sample' : 'options',
      direction: 'ingress',
      fields: [],
    };
    out.push({
      record,
      seq: i,
      timestampMs: endMs,
      isFlow: true,
      exporter,
      transport: protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : 'icmp',
      srcIp,
      dstPort: protocol === 1 ? undefined : port,
      bytes,
      packets,
      scaledBytes: bytes * rate,
      scaledPackets: packets * rate,
    });
  }
  for (let j = 0; j < options; j++) {
    const exportMs = BASE_MS + Math.floor(((j + 0.5) * HOUR_MS) / options);
    const exporter = EXPORTERS[j % EXPORTERS.length] ?? '192.0.2.1';
    out.push({
      record: {
        kind: 'options',
        exporter: {
          address: exporter,
          port: 2055,
          protocol: 'netflow',
          version: 9,
          domain: 0,
          sequence: flows + j,
          uptimeMs: undefined,
          exportTimeMs: exportMs,
        },
        receivedMs: exportMs + 100,
        fields: [],
      },
      seq: flows + j,
      timestampMs: exportMs,
      isFlow: false,
      exporter,
      transport: undefined,
      srcIp: undefined,
      dstPort: undefined,
      bytes: 0,
      packets: 0,
      scaledBytes: 0,
      scaledPackets: 0,
    });
  }
  return out;
}
