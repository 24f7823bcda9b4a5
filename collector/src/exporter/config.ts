import { readFileSync } from 'node:fs';
import { type Static, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { Target } from './exporter.js';
import { parseListen } from './metrics.js';
import { parseIfIndex, parseTarget } from './options.js';
import type { IfIndexMode } from './packet.js';

/**
 * `sluice export --config FILE`: the flags as YAML (or JSON), snake_case, every key
 * optional; flags given on the command line win over the file. Example:
 *
 *   pcap: /var/tmp/mirror.pcap        # or interface: eth1
 *   to:
 *     - 127.0.0.1:2055,version=5       # the --to syntax
 *     - { host: "::1", port: 4739, version: 10 }
 *     - 127.0.0.1:6343,version=sflow   # sFlow v5 packet samples (1-in-`sample`)
 *   sample: 100
 *   active_timeout: 1800              # seconds
 *   inactive_timeout: 15
 *   if_index: vlan                    # or a number
 *   metrics: 127.0.0.1:9851
 */

const Seconds = T.Number({ exclusiveMinimum: 0 });
const PositiveInt = T.Integer({ minimum: 1 });

const TargetObject = T.Object(
  {
    host: T.String({ minLength: 1 }),
    port: T.Integer({ minimum: 1, maximum: 65535 }),
    version: T.Optional(T.Union([T.Literal(5), T.Literal(9), T.Literal(10), T.Literal('sflow')])),
  },
  { additionalProperties: false },
);

/** Schema errors as `key: problem` lines; a `to` entry given as an object is explained. */
function problems(data: unknown): string[] {
  const lines: string[] = [];
  for (const e of Value.Errors(ExportConfigSchema, data)) {
    const to = /^\/to\/(\d+)$/.exec(e.path);
    if (to && typeof e.value === 'object' && e.value !== null) {
      for (const inner of Value.Errors(TargetObject, e.value))
        lines.push(line(`${e.path}${inner.path}`, inner.message, inner.value));
      continue;
    }
    lines.push(line(e.path, e.message, e.value));
  }
  return [...new Set(lines)];
}

function line(path: string, message: string, value: unknown): string {
  const key = path.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
  const got =
    value !== undefined && typeof value !== 'object' ? ` (got ${JSON.stringify(value)})` : '';
  return `  ${key}: ${message}${got}`;
}

export const ExportConfigSchema = T.Object(
  {
    pcap: T.Optional(T.String({ minLength: 1 })),
    interface: T.Optional(T.String({ minLength: 1 })),
    to: T.Optional(T.Array(T.Union([T.String(), TargetObject]), { minItems: 1, maxItems: 16 })),
    sample: T.Optional(PositiveInt),
    active_timeout: T.Optional(Seconds),
    inactive_timeout: T.Optional(Seconds),
    if_index: T.Optional(
      T.Union([T.Integer({ minimum: 0, maximum: 0xffffffff }), T.Literal('vlan')]),
    ),
    max_flows: T.Optional(PositiveInt),
    domain: T.Optional(T.Integer({ minimum: 0, maximum: 0xffffffff })),
    template_refresh: T.Optional(Seconds),
    template_refresh_packets: T.Optional(PositiveInt),
    stats_interval: T.Optional(T.Number({ minimum: 0 })),
    filter: T.Optional(T.String()),
    tcpdump: T.Optional(T.String({ minLength: 1 })),
    metrics: T.Optional(T.String()),
  },
  { additionalProperties: false },
);

export type ExportConfigFile = Static<typeof ExportConfigSchema>;

/** The file's settings in the shape of the command-line options. */
export interface ExportFileSettings {
  pcap?: string;
  interface?: string;
  to?: Target[];
  sample?: number;
  activeTimeout?: number;
  inactiveTimeout?: number;
  ifIndex?: IfIndexMode;
  maxFlows?: number;
  domain?: number;
  templateRefresh?: number;
  templateRefreshPackets?: number;
  statsInterval?: number;
  filter?: string;
  tcpdump?: string;
  metrics?: { host: string; port: number };
}

export class ExportConfigError extends Error {
  override name = 'ExportConfigError';
}

/** Validates parsed YAML; every problem names its key (`to.1`, `inactive_timeout`...). */
export function validateExportConfig(data: unknown, where = 'config'): ExportFileSettings {
  const lines = problems(data);
  if (lines.length > 0) {
    throw new ExportConfigError(
      `${where} has ${lines.length} problem(s):\n${lines.slice(0, 12).join('\n')}`,
    );
  }
  const f = data as ExportConfigFile;
  const keyed = <R>(key: string, fn: () => R): R => {
    try {
      return fn();
    } catch (e) {
      throw new ExportConfigError(
        `${where}: key ${key}: ${(e as Error).message.replace(/^--[\w-]+:? /, '')}`,
      );
    }
  };
  const out: ExportFileSettings = {};
  if (f.pcap !== undefined) out.pcap = f.pcap;
  if (f.interface !== undefined) out.interface = f.interface;
  if (f.to !== undefined) {
    out.to = f.to.map((t, i) =>
      keyed(`to.${i}`, () =>
        typeof t === 'string'
          ? parseTarget(t)
          : parseTarget(
              `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port},version=${t.version ?? 9}`,
            ),
      ),
    );
  }
  if (f.sample !== undefined) out.sample = f.sample;
  if (f.active_timeout !== undefined) out.activeTimeout = f.active_timeout;
  if (f.inactive_timeout !== undefined) out.inactiveTimeout = f.inactive_timeout;
  if (f.if_index !== undefined) {
    const v = f.if_index;
    out.ifIndex = keyed('if_index', () => parseIfIndex(String(v)));
  }
  if (f.max_flows !== undefined) out.maxFlows = f.max_flows;
  if (f.domain !== undefined) out.domain = f.domain;
  if (f.template_refresh !== undefined) out.templateRefresh = f.template_refresh;
  if (f.template_refresh_packets !== undefined)
    out.templateRefreshPackets = f.template_refresh_packets;
  if (f.stats_interval !== undefined) out.statsInterval = f.stats_interval;
  if (f.filter !== undefined) out.filter = f.filter;
  if (f.tcpdump !== undefined) out.tcpdump = f.tcpdump;
  if (f.metrics !== undefined) {
    const v = f.metrics;
    out.metrics = keyed('metrics', () => parseListen(v));
  }
  if (out.pcap !== undefined && out.interface !== undefined)
    throw new ExportConfigError(`${where}: keys pcap and interface exclude each other`);
  return out;
}

/** Reads a YAML/JSON config file; errors name the file, the key and the problem. */
export function readExportConfig(path: string): ExportFileSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ExportConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (e) {
    throw new ExportConfigError(`config file ${path} is not valid YAML: ${(e as Error).message}`);
  }
  return validateExportConfig(data, `config file ${path}`);
}
