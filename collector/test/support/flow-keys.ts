// One key per flow, the same whether it comes from the traffic generator's expectations
// or from an indexed document, so the collect tests can match them one to one. ICMP
// flows are keyed by type and code (they have no ports).
import type { ExpectedFlow } from '@sluice/testkit';

export const isIcmp = (p: number | undefined): boolean => p === 1 || p === 58;

export function keyOfFlow(f: ExpectedFlow): string {
  const a = isIcmp(f.protocol) ? `t${f.icmpType}` : f.srcPort;
  const b = isIcmp(f.protocol) ? `c${f.icmpCode}` : f.dstPort;
  return `${f.src} ${a} > ${f.dst} ${b} p${f.protocol}`;
}

/** The parts of an indexed flow document the tests compare. */
export interface FlowDoc {
  source?: { ip?: string; port?: number };
  destination?: { ip?: string; port?: number };
  network?: { iana_number?: string; bytes?: number; packets?: number };
  icmp?: { type?: number; code?: number };
}

export function keyOfDoc(d: FlowDoc): string {
  const p = Number(d.network?.iana_number);
  const a = isIcmp(p) ? `t${d.icmp?.type}` : d.source?.port;
  const b = isIcmp(p) ? `c${d.icmp?.code}` : d.destination?.port;
  return `${d.source?.ip} ${a} > ${d.destination?.ip} ${b} p${p}`;
}
