import { createServer, type Server } from 'node:http';
import type { Attributes } from '@opentelemetry/api';
import { createMetrics, type Metrics } from '../metrics/provider.js';
import type { ExporterStats } from './exporter.js';

/**
 * OpenTelemetry metrics of `sluice export`, served as Prometheus text at
 * `http://HOST:PORT/metrics` (`--metrics HOST:PORT`). Every instrument is observable: it
 * reads the exporter's statistics at collection time, so a scrape shows exactly what the
 * final statistics line would say at that moment. Prometheus names:
 *
 *   sluice_export_packets_total            frames read from the capture
 *   sluice_export_observed_bytes_total     their bytes on the wire
 *   sluice_export_packets_skipped_total    frames not accounted, by error_type
 *   sluice_export_flows_exported_total     flows that left the cache
 *   sluice_export_flows_active             flows in the cache (gauge)
 *   sluice_export_datagrams_total          datagrams sent, per destination
 *   sluice_export_flows_sent_total         flows in them, per destination
 *   sluice_export_bytes_total              UDP payload bytes sent, per destination
 *   sluice_export_errors_total             failed sends, per destination and error_type
 *
 * Destination labels: sluice_export_destination ("host:port") and sluice_export_version
 * (5, 9 or 10).
 */

export const EXPORT_METRICS = {
  packets: 'sluice.export.packets',
  observedBytes: 'sluice.export.observed.bytes',
  skipped: 'sluice.export.packets.skipped',
  flowsExported: 'sluice.export.flows.exported',
  flowsActive: 'sluice.export.flows.active',
  datagrams: 'sluice.export.datagrams',
  flowsSent: 'sluice.export.flows.sent',
  bytes: 'sluice.export.bytes',
  errors: 'sluice.export.errors',
} as const;

export interface ExportMetricsServer {
  /** `http://host:port/metrics`. */
  readonly url: string;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/** `HOST:PORT` or `[V6]:PORT`; port 0 picks a free one. */
export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(spec);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535)
    throw new Error(`--metrics: expected HOST:PORT (IPv6 as [ADDR]:PORT), got ${spec}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Registers the instruments on a new meter provider and serves them over HTTP. */
export async function startExportMetrics(
  stats: () => ExporterStats,
  listen: { host: string; port: number },
): Promise<ExportMetricsServer> {
  const metrics = createMetrics({ prometheus: true });
  const m = metrics.meter;
  const counter = (name: string, description: string, unit = '{packet}') =>
    m.createObservableCounter(name, { description, unit });
  const packets = counter(EXPORT_METRICS.packets, 'Frames read from the capture');
  const observed = counter(EXPORT_METRICS.observedBytes, 'Bytes of those frames', 'By');
  const skipped = counter(EXPORT_METRICS.skipped, 'Frames not accounted to a flow, by reason');
  const exported = counter(EXPORT_METRICS.flowsExported, 'Flows exported', '{flow}');
  const active = m.createObservableGauge(EXPORT_METRICS.flowsActive, {
    description: 'Flows in the cache',
    unit: '{flow}',
  });
  const datagrams = counter(EXPORT_METRICS.datagrams, 'Datagrams sent', '{datagram}');
  const flowsSent = counter(EXPORT_METRICS.flowsSent, 'Flows sent', '{flow}');
  const bytes = counter(EXPORT_METRICS.bytes, 'UDP payload bytes sent', 'By');
  const errors = counter(EXPORT_METRICS.errors, 'Failed sends', '{datagram}');
  m.addBatchObservableCallback(
    (r) => {
      const s = stats();
      r.observe(packets, s.packets);
      r.observe(observed, s.observedBytes);
      for (const [reason, n] of Object.entries(s.skipped))
        r.observe(skipped, n ?? 0, { 'error.type': reason });
      r.observe(exported, s.flowsExported);
      r.observe(active, s.flowsActive);
      for (const d of s.destinations) {
        const host = d.target.host.includes(':') ? `[${d.target.host}]` : d.target.host;
        const attrs: Attributes = {
          'sluice.export.destination': `${host}:${d.target.port}`,
          'sluice.export.version': d.target.version,
        };
        r.observe(datagrams, d.datagrams, attrs);
        r.observe(flowsSent, d.flows, attrs);
        r.observe(bytes, d.bytes, attrs);
        for (const [code, n] of Object.entries(d.errorCodes))
          r.observe(errors, n, { ...attrs, 'error.type': code });
      }
    },
    [packets, observed, skipped, exported, active, datagrams, flowsSent, bytes, errors],
  );
  const prometheus = metrics.prometheus;
  if (!prometheus) throw new Error('the Prometheus reader is missing');
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
      prometheus.getMetricsRequestHandler(req, res);
      return;
    }
    res.statusCode = 404;
    res.end('not found: the metrics are at /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}/metrics`,
    metrics,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metrics.shutdown();
    },
  };
}
