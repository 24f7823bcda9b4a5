// The query API as one encapsulated fastify plugin: POST /api/v1/query, GET /api/v1/fields,
// the OpenAPI document at /docs (JSON at /docs/json). Register it without a prefix.
import { type Client, errors } from '@elastic/elasticsearch';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyError, FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import { VERSION } from '../../version.js';
import { createQueryRunner, type FilterCompiler } from '../es/runner.js';
import { DEFAULT_LIMITS, QueryError, type QueryLimits } from '../es/types.js';
import { bearerChecker } from './auth.js';
import { queryPrometheus } from './prometheus.js';
import {
  ErrorSchema,
  FieldsResponseSchema,
  QueryRequestSchema,
  QueryResponseSchema,
  REQUEST_VARIANTS,
} from './schema.js';

export type { FilterCompileResult, FilterCompiler } from '../es/runner.js';

export interface QueryApiOptions {
  client: Client;
  /** Data stream (or index pattern) the records are in. */
  dataStream: string;
  compileFilter: FilterCompiler;
  /** Base URL of the Prometheus that scrapes the collector, for the `metrics` kind. */
  prometheusUrl?: string | undefined;
  /** Bearer tokens accepted; none: no authentication (bind to loopback only, see below). */
  tokens?: readonly string[] | undefined;
  limits?: Partial<QueryLimits> | undefined;
}

/**
 * Whether the query API asks for a token. With no tokens configured anyone who can
 * reach the port can read every flow, so the server must then bind to loopback only
 * (and log that it does); the plugin logs a warning at registration as well.
 */
export function queryApiRequiresAuth(opts: Pick<QueryApiOptions, 'tokens'>): boolean {
  return (opts.tokens ?? []).some((t) => t.length > 0);
}

/**
 * Validates with TypeBox (no coercion, no stripping: a union branch that fails cannot
 * alter the body for the next). A body whose `kind` is known is reported against that
 * kind's schema, so the error names the real problem rather than "no variant matched".
 */
const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema }) => {
  const whole = TypeCompiler.Compile(schema as Parameters<typeof TypeCompiler.Compile>[0]);
  const variants = new Map(
    schema === QueryRequestSchema
      ? Object.entries(REQUEST_VARIANTS).map(([k, s]) => [k, TypeCompiler.Compile(s)])
      : [],
  );
  return (data: unknown) => {
    const kind =
      typeof data === 'object' && data !== null && 'kind' in data ? String(data.kind) : undefined;
    if (whole.Check(data)) return { value: data };
    const target = (kind !== undefined ? variants.get(kind) : undefined) ?? whole;
    const first = target.Errors(data).First();
    const where = first?.path !== undefined && first.path !== '' ? first.path.slice(1) : 'body';
    const message =
      variants.size > 0 && kind !== undefined && !variants.has(kind)
        ? `kind: expected one of ${[...variants.keys()].join(', ')}`
        : `${where}: ${first?.message ?? 'invalid'}`;
    return { error: new Error(message) };
  };
};

function searchTimeout(err: unknown, limits: QueryLimits): QueryError | undefined {
  if (err instanceof errors.TimeoutError) {
    return new QueryError(504, `query timed out after ${limits.timeoutMs} ms`, {
      limit: 'timeoutMs',
      max: limits.timeoutMs,
    });
  }
  return undefined;
}

/** Elasticsearch's own reason for a refused search (unknown field type, expired cursor). */
function elasticReason(err: errors.ResponseError): string {
  const body = err.body as
    | {
        error?: {
          root_cause?: { reason?: string }[];
          reason?: string;
          caused_by?: { reason?: string };
        };
      }
    | undefined;
  const e = body?.error;
  return e?.root_cause?.[0]?.reason ?? e?.caused_by?.reason ?? e?.reason ?? err.message;
}

export const queryApiPlugin: FastifyPluginAsync<QueryApiOptions> = async (parent, opts) => {
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const requiresAuth = queryApiRequiresAuth(opts);
  const authorized = bearerChecker(opts.tokens ?? []);
  const { run, fields } = createQueryRunner({
    client: opts.client,
    dataStream: opts.dataStream,
    compileFilter: opts.compileFilter,
    limits,
    metrics: (q, range) => queryPrometheus(opts.prometheusUrl, q, range, limits),
  });
  if (!requiresAuth) {
    parent.log.warn(
      'query API: no bearer tokens configured, so no authentication: bind to loopback only',
    );
  }

  await parent.register(swagger, {
    openapi: {
      info: {
        title: 'Sluice query API',
        description:
          'Flow records in Elasticsearch and aggregate metrics in Prometheus, as Grafana data frames.',
        version: VERSION,
      },
      components: requiresAuth
        ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
        : {},
    },
  });
  await parent.register(swaggerUi, { routePrefix: '/docs' });

  const app = parent;
  app.setValidatorCompiler(validatorCompiler);

  app.setErrorHandler((err: FastifyError | QueryError | Error, request, reply) => {
    const timeout = searchTimeout(err, limits);
    if (err instanceof QueryError || timeout !== undefined) {
      const q = timeout ?? (err as QueryError);
      return reply.code(q.status).send({ error: q.message, ...q.detail });
    }
    if ('validation' in err && err.validation !== undefined) {
      return reply.code(400).send({ error: err.message });
    }
    if (err instanceof errors.ResponseError) {
      const status = err.statusCode ?? 502;
      // A search Elasticsearch refuses for its content (bad field, expired cursor) is the
      // request's fault; anything else is Elasticsearch's.
      if (status === 400 || status === 404) {
        return reply.code(400).send({ error: `Elasticsearch: ${elasticReason(err)}` });
      }
      request.log.error({ err: err.message, status }, 'query failed in Elasticsearch');
      return reply.code(502).send({ error: `Elasticsearch: ${elasticReason(err)}` });
    }
    if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError) {
      return reply.code(503).send({ error: `Elasticsearch unreachable: ${err.message}` });
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'query API error');
    return reply.code(status).send({ error: err.message });
  });

  await app.register(async (scope) => {
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    if (requiresAuth) {
      api.addHook('onRequest', async (request, reply) => {
        // Never log the header: only whether it was there.
        const header = request.headers.authorization;
        if (!authorized(header)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="sluice"')
            .send({
              error: header === undefined ? 'bearer token required' : 'invalid bearer token',
            });
        }
      });
    }
    const security = requiresAuth ? [{ bearer: [] }] : [];
    const refused = {
      400: ErrorSchema,
      401: ErrorSchema,
      422: ErrorSchema,
      502: ErrorSchema,
      504: ErrorSchema,
    };

    api.post(
      '/api/v1/query',
      {
        schema: {
          summary: 'Run a query: timeseries, topn, records, values or metrics',
          security,
          body: QueryRequestSchema,
          response: { 200: QueryResponseSchema, ...refused },
        },
      },
      async (request) => ({ frames: await run(request.body) }),
    );

    api.get(
      '/api/v1/fields',
      {
        schema: {
          summary: 'Queryable fields of the data stream, with their types',
          security,
          response: { 200: FieldsResponseSchema, ...refused },
        },
      },
      async () => ({ fields: await fields() }),
    );
  });
};
