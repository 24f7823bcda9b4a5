import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { FastifyPluginAsync } from 'fastify';

export interface MetricsPluginOptions {
  prometheus: PrometheusExporter;
}

/**
 * `/metrics`: Prometheus text exposition, written by the OpenTelemetry Prometheus
 * exporter's own request handler (it collects and serializes on each scrape). The reply
 * is hijacked because that handler writes the raw response itself.
 */
export const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, opts) => {
  app.get('/metrics', { config: { quietLog: true } }, (request, reply) => {
    reply.hijack();
    opts.prometheus.getMetricsRequestHandler(request.raw, reply.raw);
  });
};
