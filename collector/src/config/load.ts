import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { AllowList } from './cidr.js';
import { type CollectConfigFile, CollectConfigSchema } from './schema.js';
import { parseBytes, parseDuration } from './units.js';

/** A configuration problem: names the key and says what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The resolved configuration `sluice collect` runs with: every default filled in. */
export interface CollectConfig {
  listen: { port: number; address: string }[];
  receiveBufferBytes: number;
  allow: string[];
  dataDir: string;
  workers: number;
  logLevel: string;
  limits: {
    maxExporters: number;
    maxPacketsPerSecondPerExporter: number;
    maxTemplatesPerExporter: number;
    maxPendingBytesPerExporter: number;
    pendingTemplateWaitMs: number;
  };
  journal: {
    segmentBytes: number;
    fsync: 'always' | 'never' | number;
    maxBytes: number;
    maxAgeMs: number;
    hardMaxBytes: number;
  };
  elasticsearch: {
    url: string;
    dataStream: string;
    username: string | undefined;
    password: string | undefined;
    apiKey: string | undefined;
    caFile: string | undefined;
    tlsVerify: boolean;
    bulkMaxDocs: number;
    bulkMaxBytes: number;
    bulkIntervalMs: number;
    /** Bulk requests in flight at once. */
    bulkConcurrency: number;
  };
  sampling: { defaultRate: number | undefined; overrides: Map<string, number> };
  metrics: {
    prometheus: boolean;
    otlpEndpoint: string | undefined;
    otlpHeaders: Record<string, string>;
    otlpIntervalMs: number;
    flowCardinalityLimit: number;
  };
  http: {
    host: string;
    port: number;
    tokens: string[];
    tlsCertFile: string | undefined;
    tlsKeyFile: string | undefined;
  };
  query: {
    prometheusUrl: string | undefined;
    maxRangeMs: number;
    maxBuckets: number;
    maxRecords: number;
    maxTuples: number;
    timeoutMs: number;
  };
}

export const DEFAULT_PORTS = [2055, 4739, 6343] as const;

function size(key: string, v: string | number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = parseBytes(v);
  if (n === undefined)
    throw new ConfigError(`config key ${key}: "${v}" is not a size (e.g. 64MiB, 10GB, 4096)`);
  return n;
}

function duration(key: string, v: string | number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = parseDuration(v);
  if (n === undefined)
    throw new ConfigError(`config key ${key}: "${v}" is not a duration (e.g. 500ms, 30s, 7d)`);
  return n;
}

function hostPort(key: string, v: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`config key ${key}: "${v}" is not host:port`);
  }
  return { host: m[1] || '127.0.0.1', port };
}

/** Reads and validates a YAML or JSON config file; errors name the file, key and problem. */
export function readConfigFile(path: string): CollectConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return validateConfig(data, path);
}

export function validateConfig(data: unknown, where = 'config'): CollectConfigFile {
  const errors = [...Value.Errors(CollectConfigSchema, data)];
  if (errors.length > 0) {
    const lines = errors.slice(0, 10).map((e) => {
      const key = e.path.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
      return `  ${key}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`;
    });
    throw new ConfigError(`${where} has ${errors.length} problem(s):\n${lines.join('\n')}`);
  }
  return data as CollectConfigFile;
}

/** Fills in every default; checks what the schema cannot (units, networks, host:port). */
export function resolveConfig(f: CollectConfigFile): CollectConfig {
  const dataDir = f.data_dir ?? './sluice-data';
  const allow = f.allow ?? [];
  try {
    new AllowList(allow);
  } catch (err) {
    throw new ConfigError(`config key allow: ${(err as Error).message}`);
  }
  const j = f.journal ?? {};
  const es = f.elasticsearch ?? {};
  const lim = f.limits ?? {};
  const m = f.metrics ?? {};
  if ((f.http?.tls_cert_file === undefined) !== (f.http?.tls_key_file === undefined)) {
    throw new ConfigError('config keys http.tls_cert_file and http.tls_key_file go together');
  }
  const fsync =
    j.fsync === 'always' || j.fsync === 'never'
      ? j.fsync
      : duration('journal.fsync', j.fsync, 1000);
  const maxBytes = size('journal.max_bytes', j.max_bytes, 10 * 1024 ** 3);
  return {
    listen: (
      f.listen ?? DEFAULT_PORTS.map((port): { port: number; address?: string } => ({ port }))
    ).map((l) => ({ port: l.port, address: l.address ?? '::' })),
    receiveBufferBytes: size('receive_buffer_bytes', f.receive_buffer_bytes, 32 * 1024 * 1024),
    allow,
    dataDir,
    workers:
      f.workers === undefined || f.workers === 'auto'
        ? Math.max(1, availableParallelism() - 1)
        : f.workers,
    logLevel: f.log_level ?? 'info',
    limits: {
      maxExporters: lim.max_exporters ?? 10_000,
      maxPacketsPerSecondPerExporter: lim.max_packets_per_second_per_exporter ?? 200_000,
      maxTemplatesPerExporter: lim.max_templates_per_exporter ?? 4_096,
      maxPendingBytesPerExporter: size(
        'limits.max_pending_bytes_per_exporter',
        lim.max_pending_bytes_per_exporter,
        1 << 20,
      ),
      pendingTemplateWaitMs: duration(
        'limits.pending_template_wait',
        lim.pending_template_wait,
        60_000,
      ),
    },
    journal: {
      segmentBytes: size('journal.segment_bytes', j.segment_bytes, 64 * 1024 * 1024),
      fsync,
      maxBytes,
      maxAgeMs: duration('journal.max_age', j.max_age, 7 * 86_400_000),
      hardMaxBytes: size('journal.hard_max_bytes', j.hard_max_bytes, maxBytes * 4),
    },
    elasticsearch: {
      url: es.url ?? 'http://localhost:9200',
      dataStream: es.data_stream ?? 'logs-netflow.sluice-default',
      username: es.username,
      password: es.password,
      apiKey: es.api_key,
      caFile: es.ca_file,
      tlsVerify: es.tls_verify ?? true,
      bulkMaxDocs: es.bulk_max_docs ?? 5_000,
      bulkMaxBytes: size('elasticsearch.bulk_max_bytes', es.bulk_max_bytes, 5 * 1024 * 1024),
      bulkIntervalMs: duration('elasticsearch.bulk_interval', es.bulk_interval, 1_000),
      // Elasticsearch pipelines requests: with one in flight it idles while the answer travels
      // and the next body is built (bench/ingest measures the default).
      bulkConcurrency: es.bulk_concurrency ?? 4,
    },
    sampling: {
      defaultRate: f.sampling?.default_rate,
      overrides: new Map(Object.entries(f.sampling?.overrides ?? {})),
    },
    metrics: {
      prometheus: m.prometheus ?? true,
      otlpEndpoint: m.otlp_endpoint,
      otlpHeaders: m.otlp_headers ?? {},
      otlpIntervalMs: duration('metrics.otlp_interval', m.otlp_interval, 60_000),
      flowCardinalityLimit: m.flow_cardinality_limit ?? 2_000,
    },
    http: {
      ...hostPort('http.listen', f.http?.listen ?? '127.0.0.1:9850'),
      tokens: f.http?.tokens ?? [],
      tlsCertFile: f.http?.tls_cert_file,
      tlsKeyFile: f.http?.tls_key_file,
    },
    query: {
      prometheusUrl: f.query?.prometheus_url,
      maxRangeMs: duration('query.max_range', f.query?.max_range, 31 * 86_400_000),
      maxBuckets: f.query?.max_buckets ?? 10_000,
      maxRecords: f.query?.max_records ?? 10_000,
      maxTuples: f.query?.max_tuples ?? 100_000,
      timeoutMs: duration('query.timeout', f.query?.timeout, 30_000),
    },
  };
}

export function journalDir(c: CollectConfig): string {
  return join(c.dataDir, 'journal');
}
