/**
 * The demo exporter's traffic: a capture of made-up but plausible flows (web, DNS, NTP,
 * SSH, RDP, ICMP, IPv6, and one host scanning SSH across a subnet) that the compose
 * stack's demo exporter replays in a loop onto a dummy interface and exports live, so
 * the dashboards and alert rules have something to show. Addresses are private or from
 * the documentation ranges (RFC 5737, RFC 3849).
 *
 *   node --import tsx deploy/demo/traffic.ts OUT.pcap
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type FlowSpec, generateTraffic } from '@sluice/testkit';

/** Start of the capture; its clock does not matter: the replay is paced by packet rate. */
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

const ACK = 0x10;
const PSH_ACK = 0x18;
const SYN = 0x02;
const FIN_ACK = 0x11;

/** A TCP conversation as two flows (request and response), handshake to FIN. */
function tcpPair(
  client: string,
  server: string,
  sport: number,
  dport: number,
  at: number,
  packets: number,
  up: readonly [number, number],
  down: readonly [number, number],
): FlowSpec[] {
  const flags = [SYN, ACK, ...new Array<number>(Math.max(0, packets - 3)).fill(PSH_ACK), FIN_ACK];
  return [
    {
      src: client,
      dst: server,
      proto: 'tcp',
      sport,
      dport,
      packets,
      sizeRange: up,
      startMs: at,
      gapMs: 20,
      tcpFlags: flags,
    },
    {
      src: server,
      dst: client,
      proto: 'tcp',
      sport: dport,
      dport: sport,
      packets,
      sizeRange: down,
      startMs: at + 5,
      gapMs: 20,
      tcpFlags: flags,
    },
  ];
}

function udpPair(
  client: string,
  server: string,
  sport: number,
  dport: number,
  at: number,
  size: [number, number],
): FlowSpec[] {
  return [
    {
      src: client,
      dst: server,
      proto: 'udp',
      sport,
      dport,
      packets: 1,
      sizeRange: [60, 90],
      startMs: at,
      gapMs: 1,
    },
    {
      src: server,
      dst: client,
      proto: 'udp',
      sport: dport,
      dport: sport,
      packets: 1,
      sizeRange: size,
      startMs: at + 2,
      gapMs: 1,
    },
  ];
}

/** Every flow of one pass of the demo capture. */
export function demoFlows(): FlowSpec[] {
  const flows: FlowSpec[] = [];
  const webServers = ['198.51.100.10', '198.51.100.20', '203.0.113.80', '203.0.113.44'];
  for (let c = 1; c <= 24; c++) {
    const client = `10.1.0.${c}`;
    const server = webServers[c % webServers.length] as string;
    const at = T0 + c * 150;
    flows.push(
      ...tcpPair(
        client,
        server,
        40000 + c,
        c % 5 === 0 ? 80 : 443,
        at,
        8 + (c % 7) * 4,
        [60, 400],
        [600, 1500],
      ),
    );
    flows.push(...udpPair(client, '10.1.255.53', 50000 + c, 53, at - 40, [90, 300]));
  }
  // A few heavy hitters: backups and a download.
  flows.push(...tcpPair('10.1.0.2', '10.3.0.9', 45001, 873, T0 + 400, 120, [1400, 1500], [60, 80]));
  flows.push(
    ...tcpPair('10.1.0.14', '203.0.113.80', 45002, 443, T0 + 900, 90, [60, 120], [1400, 1500]),
  );
  // Time, remote shells and desktops.
  flows.push(...udpPair('10.1.0.1', '10.1.255.123', 123, 123, T0 + 50, [76, 76]));
  flows.push(...tcpPair('10.1.0.5', '10.2.0.10', 51022, 22, T0 + 300, 30, [80, 200], [80, 400]));
  flows.push(
    ...tcpPair('10.1.0.7', '10.2.0.20', 51389, 3389, T0 + 600, 40, [100, 300], [400, 1400]),
  );
  // IPv6 web and ICMP.
  flows.push(
    ...tcpPair(
      '2001:db8:1::10',
      '2001:db8:2::443',
      42000,
      443,
      T0 + 700,
      20,
      [80, 300],
      [800, 1400],
    ),
  );
  flows.push({
    src: '10.1.0.3',
    dst: '10.2.0.1',
    proto: 'icmp',
    packets: 4,
    bytesPerPacket: 84,
    startMs: T0 + 100,
    gapMs: 250,
  });
  flows.push({
    src: '2001:db8:1::10',
    dst: '2001:db8:2::1',
    proto: 'icmp',
    packets: 4,
    bytesPerPacket: 104,
    startMs: T0 + 120,
    gapMs: 250,
  });
  // One host probing SSH across a subnet: one SYN per address (the fan-out alert's case).
  for (let h = 1; h <= 60; h++) {
    flows.push({
      src: '10.66.6.6',
      dst: `10.2.1.${h}`,
      proto: 'tcp',
      sport: 60000 + h,
      dport: 22,
      packets: 1,
      bytesPerPacket: 60,
      startMs: T0 + 1000 + h * 10,
      gapMs: 1,
      tcpFlags: SYN,
    });
  }
  return flows;
}

/** The demo capture as classic pcap bytes. */
export function demoCapture(): Uint8Array {
  return generateTraffic(demoFlows(), { seed: 7 }).pcap;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2];
  if (out === undefined) {
    console.error('usage: node --import tsx deploy/demo/traffic.ts OUT.pcap');
    process.exit(2);
  }
  writeFileSync(out, demoCapture());
}
