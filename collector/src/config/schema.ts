import { type Static, Type as T } from '@sinclair/typebox';

/** Sizes and durations accept numbers or text with units ("64MiB", "7d"). */
const Size = T.Union([T.Number({ minimum: 0 }), T.String()]);
const Duration = T.Union([T.Number({ minimum: 0 }), T.String()]);

const Listener = T.Object(
  {
    port: T.Integer({ minimum: 0, maximum: 65535, description: '0 picks a free port (tests)' }),
    address: T.Optional(T.String({ description: 'bind address; "::" takes IPv4 and IPv6' })),
  },
  { additionalProperties: false },
);

/**
 * The `sluice collect` configuration file (YAML or JSON), in snake_case. Every key is
 * optional; command-line flags override the file.
 */
export const CollectConfigSchema = T.Object(
  {
    listen: T.Optional(T.Array(Listener, { minItems: 1 })),
    receive_buffer_bytes: T.Optional(Size),
    allow: T.Optional(T.Array(T.String())),
    data_dir: T.Optional(T.String()),
    workers: T.Optional(T.Union([T.Integer({ minimum: 1, maximum: 256 }), T.Literal('auto')])),
    log_level: T.Optional(
      T.Union(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((l) => T.Literal(l))),
    ),
    limits: T.Optional(
      T.Object(
        {
          max_exporters: T.Optional(T.Integer({ minimum: 1 })),
          max_packets_per_second_per_exporter: T.Optional(T.Number({ minimum: 1 })),
          max_templates_per_exporter: T.Optional(T.Integer({ minimum: 1 })),
          max_pending_bytes_per_exporter: T.Optional(Size),
          pending_template_wait: T.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    journal: T.Optional(
      T.Object(
        {
          segment_bytes: T.Optional(Size),
          fsync: T.Optional(T.Union([T.Literal('always'), T.Literal('never'), Duration])),
          max_bytes: T.Optional(Size),
          max_age: T.Optional(Duration),
          hard_max_bytes: T.Optional(Size),
        },
        { additionalProperties: false },
      ),
    ),
    elasticsearch: T.Optional(
      T.Object(
        {
          url: T.Optional(T.String()),
          data_stream: T.Optional(
            T.String({ pattern: '^[a-z0-9][a-z0-9._-]*-[a-z0-9._-]+-[a-z0-9._-]+$' }),
          ),
          username: T.Optional(T.String()),
          password: T.Optional(T.String()),
          api_key: T.Optional(T.String()),
          ca_file: T.Optional(T.String()),
          tls_verify: T.Optional(T.Boolean()),
          bulk_max_docs: T.Optional(T.Integer({ minimum: 1 })),
          bulk_max_bytes: T.Optional(Size),
          bulk_interval: T.Optional(Duration),
          bulk_concurrency: T.Optional(T.Integer({ minimum: 1, maximum: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
    sampling: T.Optional(
      T.Object(
        {
          default_rate: T.Optional(T.Integer({ minimum: 1 })),
          overrides: T.Optional(T.Record(T.String(), T.Integer({ minimum: 1 }))),
        },
        { additionalProperties: false },
      ),
    ),
    metrics: T.Optional(
      T.Object(
        {
          prometheus: T.Optional(T.Boolean()),
          otlp_endpoint: T.Optional(T.String()),
          otlp_headers: T.Optional(T.Record(T.String(), T.String())),
          otlp_interval: T.Optional(Duration),
          flow_cardinality_limit: T.Optional(T.Integer({ minimum: 10 })),
        },
        { additionalProperties: false },
      ),
    ),
    http: T.Optional(
      T.Object(
        {
          listen: T.Optional(T.String()),
          tokens: T.Optional(
            T.Array(T.String({ minLength: 16 }), {
              description: 'bearer tokens for the query API',
            }),
          ),
          tls_cert_file: T.Optional(T.String()),
          tls_key_file: T.Optional(T.String()),
        },
        { additionalProperties: false },
      ),
    ),
    query: T.Optional(
      T.Object(
        {
          prometheus_url: T.Optional(T.String()),
          max_range: T.Optional(Duration),
          max_buckets: T.Optional(T.Integer({ minimum: 1 })),
          max_records: T.Optional(T.Integer({ minimum: 1 })),
          max_tuples: T.Optional(T.Integer({ minimum: 1 })),
          timeout: T.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type CollectConfigFile = Static<typeof CollectConfigSchema>;
