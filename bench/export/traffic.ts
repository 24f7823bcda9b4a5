// The benchmark's capture: many flows (IPv4 and IPv6, TCP/UDP/ICMP, some 802.1Q tagged)
// interleaved in time, so thousands are active at once, written once with the testkit's
// generator and reused from the temp directory by later runs with the same size.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FlowSpec, writeTraffic } from '@sluice/testkit';

export interface BenchTraffic {
  readonly file: string;
  readonly fileBytes: number;
  readonly frames: number;
  readonly flows: number;
  /** Sum of the frame lengths (what was observed on the wire). */
  readonly frameBytes: number;
  /** Sum of the IP total lengths (what a flow exporter must count). */
  readonly ipBytes: number;
  readonly packets: number;
  readonly cached: boolean;
}

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const FORMAT = 3;

/** Packets of flow i: 1..39, 20 on average; deterministic. */
const packetsOf = (i: number) => 1 + ((i * 7919) % 39);

/** SYN, then PSH+ACK, FIN+ACK on the last packet (short flows: PSH+ACK only). */
function tcpFlags(n: number): number | number[] {
  if (n <= 2) return 0x18;
  return [0x02, ...new Array<number>(n - 2).fill(0x18), 0x11];
}

/** Flows whose packets add up to about `targetPackets`. */
export function benchFlows(targetPackets: number): FlowSpec[] {
  const flows: FlowSpec[] = [];
  let packets = 0;
  for (let i = 0; packets < targetPackets; i++) {
    const n = Math.min(packetsOf(i), targetPackets - packets);
    const v6 = i % 8 === 7;
    const kind = i % 10;
    const proto = kind < 6 ? 'tcp' : kind < 9 ? 'udp' : 'icmp';
    const a = (i >> 16) & 0xff;
    const b = (i >> 8) & 0xff;
    const c = i & 0xff;
    const src = v6
      ? `2001:db8:${a.toString(16)}::${(i & 0xffff).toString(16)}`
      : `10.${a}.${b}.${c}`;
    const dst = v6 ? `2001:db8:ff::${((i * 31) & 0xffff).toString(16)}` : `172.16.${c}.${b}`;
    const min = v6 ? 64 : 44;
    const spec: FlowSpec = {
      src,
      dst,
      proto,
      packets: n,
      sizeRange: [min, 320],
      // A new flow every 0.5 ms; packets 1-500 ms apart: about 10k flows active at once.
      startMs: T0 + i * 0.5,
      gapMs: 1 + (i % 200) * 2.5,
      ...(proto === 'icmp' ? {} : { sport: 1024 + (i % 60000), dport: [443, 80, 53, 8080][i % 4] }),
      ...(proto === 'tcp' ? { tcpFlags: tcpFlags(n) } : {}),
      ...(i % 5 === 0 ? { vlan: 100 + (i % 50) } : {}),
    };
    flows.push(spec);
    packets += n;
  }
  return flows;
}

/** The capture for `targetPackets` packets: generated, or the cached one. */
export function benchTraffic(targetPackets: number, log: (s: string) => void): BenchTraffic {
  const file = join(tmpdir(), `sluice-bench-export-v${FORMAT}-${targetPackets}.pcap`);
  const meta = `${file}.json`;
  if (existsSync(file) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Omit<BenchTraffic, 'cached'>;
    if (statSync(file).size === m.fileBytes) return { ...m, cached: true };
  }
  log(`generating ${targetPackets} packets into ${file} (once; later runs reuse it)`);
  const tmp = `${file}.tmp`;
  const g = writeTraffic(tmp, benchFlows(targetPackets), { seed: 7 });
  renameSync(tmp, file);
  const t: Omit<BenchTraffic, 'cached'> = {
    file,
    fileBytes: g.pcap.length,
    frames: g.frames,
    flows: g.flows.length,
    frameBytes: g.flows.reduce((n, f) => n + f.frameBytes, 0),
    ipBytes: g.flows.reduce((n, f) => n + f.bytes, 0),
    packets: g.flows.reduce((n, f) => n + f.packets, 0),
  };
  writeFileSync(meta, JSON.stringify(t));
  return { ...t, cached: false };
}
