import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type QueryApiOptions, queryApiPlugin, queryApiRequiresAuth } from '../query/api/plugin.js';
import { healthPlugin } from './health.js';
import { ProbeLogController } from './log-controller.js';
import { componentLogger } from './logging.js';
import { metricsPlugin } from './metrics.js';
import { DEFAULT_CHECK_TIMEOUT_MS, type ReadinessChecks } from './readiness.js';

export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 9850;

export interface ApiOptions {
  /** The collector's pino logger; the API logs through a child of it with redaction. */
  logger: Logger;
  /** The metrics of `createMetrics`; /metrics is served when its Prometheus reader exists. */
  metrics?: { readonly prometheus: PrometheusExporter | undefined } | undefined;
  /** Readiness checks by name (e.g. listeners, journal, elasticsearch). */
  checks?: ReadinessChecks | undefined;
  /** Deadline per readiness check (default 2 s). */
  checkTimeoutMs?: number | undefined;
  /** Log paths to redact on top of the authorization headers. */
  redact?: readonly string[] | undefined;
  /** The query API (/api/v1/..., /docs); its tokens guard only its own routes. */
  query?: QueryApiOptions | undefined;
  /** Serve HTTPS with this PEM key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer } | undefined;
}

export interface ListenOptions {
  host?: string | undefined;
  port?: number | undefined;
}

/**
 * The collector's HTTP server. Each concern is one encapsulated fastify plugin, so its
 * routes, hooks and decorators stay its own; they are registered in this order:
 *
 *   1. health   /healthz, /readyz
 *   2. metrics  /metrics (when Prometheus is enabled)
 *
 *   3. query    /api/v1/query, /api/v1/fields, /docs (when configured); its bearer-token
 *               check lives inside the plugin's context, so it guards the query routes
 *               and never the probes above.
 */
export function buildApi(opts: ApiOptions): FastifyInstance {
  const logger: FastifyBaseLogger = componentLogger(opts.logger, 'api', opts.redact);
  const app = Fastify({
    ...(opts.tls ? { https: { key: opts.tls.key, cert: opts.tls.cert } } : {}),
    loggerInstance: logger,
    logController: new ProbeLogController(),
    // Probes and scrapes must not hang on a stuck client.
    requestTimeout: 30_000,
  });

  app.register(healthPlugin, {
    checks: opts.checks ?? {},
    checkTimeoutMs: opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS,
  });
  const prometheus = opts.metrics?.prometheus;
  if (prometheus) app.register(metricsPlugin, { prometheus });
  if (opts.query) app.register(queryApiPlugin, opts.query);
  return app;
}

export interface RunningApi {
  readonly app: FastifyInstance;
  /** http://host:port actually bound (port 0 resolved). */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the API and binds it (default 127.0.0.1:9850; port 0 picks a free one). */
export async function startApi(opts: ApiOptions & ListenOptions): Promise<RunningApi> {
  let host = opts.host ?? DEFAULT_API_HOST;
  if (opts.query && !queryApiRequiresAuth(opts.query) && !isLoopback(host)) {
    // Without a token anyone who reaches the port could read every flow.
    opts.logger.warn(
      { requested: host },
      'no API token configured: binding the HTTP API to 127.0.0.1 only (set http.tokens to listen elsewhere)',
    );
    host = DEFAULT_API_HOST;
  }
  const app = buildApi(opts);
  await app.listen({ host, port: opts.port ?? DEFAULT_API_PORT });
  const addr = app.server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : opts.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    app,
    url: `${opts.tls ? 'https' : 'http'}://${shown}:${port}`,
    close: () => app.close(),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
