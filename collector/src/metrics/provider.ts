import { randomUUID } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  type MetricReader,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { VERSION } from '../version.js';
import { DEFAULT_FLOW_CARDINALITY_LIMIT, FlowMetrics, flowViews } from './flows.js';
import { METER_NAME } from './names.js';
import { DEFAULT_EXPORTER_CARDINALITY_LIMIT, SelfMetrics, selfViews } from './self.js';

export interface OtlpOptions {
  /**
   * The OTLP/HTTP endpoint. A base URL (`http://otel-collector:4318`) gets `/v1/metrics`
   * appended, as OTEL_EXPORTER_OTLP_ENDPOINT does; a URL already ending in `/v1/metrics`
   * is used as it is.
   */
  endpoint: string;
  /** Sent with every export (e.g. authorization); never logged. */
  headers?: Record<string, string>;
  /** Export interval (default 60 s). */
  intervalMs?: number;
}

export interface MetricsOptions {
  /** Serve Prometheus text at the API's /metrics (no server of the exporter's own). */
  prometheus: boolean;
  /** Push over OTLP http/protobuf as well. */
  otlp?: OtlpOptions | undefined;
  resource?:
    | {
        /** `service.instance.id`; a random UUID per process when not given. */
        serviceInstanceId?: string;
        /** More resource attributes (e.g. `deployment.environment.name`). */
        attributes?: Record<string, string | number | boolean>;
      }
    | undefined;
  /** Series per flow metric, overflow series included (default 2000). */
  flowCardinalityLimit?: number | undefined;
  /** Series per exporter-keyed self-metric, overflow series included (default 1000). */
  exporterCardinalityLimit?: number | undefined;
}

export interface Metrics {
  readonly provider: MeterProvider;
  readonly meter: Meter;
  /** Mount `prometheus.getMetricsRequestHandler` on an HTTP route; undefined when disabled. */
  readonly prometheus: PrometheusExporter | undefined;
  readonly otlp:
    | { exporter: OTLPMetricExporter; reader: PeriodicExportingMetricReader }
    | undefined;
  readonly flows: FlowMetrics;
  readonly self: SelfMetrics;
  /** Pushes to OTLP now (Prometheus is pulled; nothing to flush). */
  forceFlush(): Promise<void>;
  /** Final OTLP export, then stops every reader. Safe to call twice. */
  shutdown(): Promise<void>;
}

const DEFAULT_OTLP_INTERVAL_MS = 60_000;
const OTLP_PATH = '/v1/metrics';

export function otlpMetricsUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith(OTLP_PATH)) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${OTLP_PATH}`;
  }
  return url.toString();
}

/**
 * The meter provider of `sluice collect`: one meter, the flow and self-metrics on it,
 * a Prometheus reader whose handler the API serves, and an OTLP push reader when an
 * endpoint is configured. Nothing is registered globally: the collector passes this
 * object to whoever records.
 */
export function createMetrics(opts: MetricsOptions): Metrics {
  const flowLimit = opts.flowCardinalityLimit ?? DEFAULT_FLOW_CARDINALITY_LIMIT;
  const exporterLimit = opts.exporterCardinalityLimit ?? DEFAULT_EXPORTER_CARDINALITY_LIMIT;
  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...opts.resource?.attributes,
      'service.name': 'sluice',
      'service.version': VERSION,
      'service.instance.id': opts.resource?.serviceInstanceId ?? randomUUID(),
    }),
  );

  const readers: MetricReader[] = [];
  const prometheus = opts.prometheus
    ? new PrometheusExporter({ preventServerStart: true })
    : undefined;
  if (prometheus) readers.push(prometheus);

  let otlp: Metrics['otlp'];
  if (opts.otlp) {
    const interval = opts.otlp.intervalMs ?? DEFAULT_OTLP_INTERVAL_MS;
    const exporter = new OTLPMetricExporter({
      url: otlpMetricsUrl(opts.otlp.endpoint),
      ...(opts.otlp.headers ? { headers: { ...opts.otlp.headers } } : {}),
    });
    const reader = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: interval,
      // The SDK requires timeout <= interval.
      exportTimeoutMillis: Math.min(30_000, interval),
    });
    readers.push(reader);
    otlp = { exporter, reader };
  }

  const provider = new MeterProvider({
    resource,
    readers,
    views: [...flowViews(flowLimit), ...selfViews(exporterLimit)],
  });
  const meter = provider.getMeter(METER_NAME, VERSION);
  const flows = new FlowMetrics(meter, flowLimit);
  const self = new SelfMetrics(meter, exporterLimit);

  let stopped: Promise<void> | undefined;
  return {
    provider,
    meter,
    prometheus,
    otlp,
    flows,
    self,
    async forceFlush() {
      if (otlp) await otlp.reader.forceFlush();
    },
    shutdown() {
      stopped ??= provider.shutdown();
      return stopped;
    },
  };
}
