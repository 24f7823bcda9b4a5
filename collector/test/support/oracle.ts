import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TsharkLayers, tsharkPackets } from '@sluice/testkit';

/** Concatenates captures (templates first) so tshark sees them as one stream, like we do. */
export function mergeCaptures(files: readonly string[]): string {
  if (files.length === 1) return files[0] as string;
  const out = join(mkdtempSync(join(tmpdir(), 'sluice-oracle-')), 'merged.pcap');
  execFileSync('mergecap', ['-a', '-F', 'pcap', '-w', out, ...files]);
  return out;
}

export type TsharkFlow = Record<string, unknown>;

export interface TsharkRecord {
  /** True when the record's template is an options template (tshark says so when it learns it). */
  options: boolean;
  fields: TsharkFlow;
}

export interface TsharkExport {
  header: Record<string, unknown>;
  flows: TsharkRecord[];
}

/**
 * The flow records tshark's cflow dissector found, per export packet, in wire order:
 * v1/v5/v7 records ("pdu i/n") and v9/IPFIX data records ("Flow n" inside data sets).
 */
export function tsharkExports(file: string, port: number): TsharkExport[] {
  const packets = tsharkPackets(file, { decodeAs: [`udp.port==${port},cflow`] });
  const out: TsharkExport[] = [];
  const optionsTemplates = new Set<number>();
  for (const layers of packets) {
    const cflow = (layers as TsharkLayers).cflow as Record<string, unknown> | undefined;
    if (!cflow) continue;
    const header: Record<string, unknown> = {};
    const flows: TsharkRecord[] = [];
    for (const [k, v] of Object.entries(cflow)) {
      if (k.startsWith('pdu ')) flows.push({ options: false, fields: v as TsharkFlow });
      else if (
        (k.startsWith('FlowSet ') || k.startsWith('Set ')) &&
        typeof v === 'object' &&
        v !== null
      ) {
        const set = v as Record<string, unknown>;
        const id = Number(set['cflow.flowset_id']);
        if (id < 256) {
          for (const tk of Object.keys(set)) {
            const m = /^Options Template \(Id = (\d+)\)/.exec(tk);
            if (m) optionsTemplates.add(Number(m[1]));
          }
          continue;
        }
        for (const [fk, fv] of Object.entries(set)) {
          if (fk.startsWith('Flow '))
            flows.push({ options: optionsTemplates.has(id), fields: fv as TsharkFlow });
        }
      } else header[k] = v;
    }
    out.push({ header, flows });
  }
  return out;
}

/** A flat view of a tshark flow: nested *_tree objects merged in. */
export function flatten(
  flow: TsharkFlow,
  into: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [k, v] of Object.entries(flow)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) flatten(v as TsharkFlow, into);
    else into[k] ??= v;
  }
  return into;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** tshark's absolute time text ("Mar 14, 2022 19:25:28.659000000 UTC") to ms since the epoch. */
export function tsharkTimeMs(text: string): number {
  const m = /^(\w{3})\s+(\d+), (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? UTC$/.exec(text.trim());
  if (!m) throw new Error(`unparsed tshark time: ${text}`);
  const [, mon, day, year, hh, mm, ss, frac = '0'] = m;
  const base = Date.UTC(
    Number(year),
    MONTHS.indexOf(mon as string),
    Number(day),
    Number(hh),
    Number(mm),
    Number(ss),
  );
  return base + Number(`0.${frac}`) * 1000;
}
