// The query API as one encapsulated fastify plugin: POST /api/v1/query, GET /api/v1/fields,
// the OpenAPI document at /docs (JSON at /docs/json). Register it without a prefix.
import { type Client, errors, type estypes } from '@elastic/elasticsearch';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyError, FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import { VERSION } from '../../version.js';
import {
  checkTop,
  DEFAULT_RECORD_FIELDS,
  DEFAULT_TOP,
  decodeCursor,
  encodeCursor,
  prefixInElasticsearch,
  recordsSearch,
  recordsSize,
  type SearchBody,
  timeseriesSearch,
  topnSearch,
  tupleSearch,
  valuesSearch,
} from '../es/build.js';
import {
  type GroupTotal,
  metricTotal,
  rankGroups,
  recordsFrames,
  termsGroups,
  timeseriesFrames,
  topnFrames,
  tuplePage,
  valuesFrames,
} from '../es/frames.js';
import { type TimeRange, timeRange } from '../es/time.js';
import {
  DEFAULT_LIMITS,
  type FieldValue,
  type Frame,
  type Metric,
  QueryError,
  type QueryLimits,
  type QueryRequest,
} from '../es/types.js';
import { bearerChecker } from './auth.js';
import { queryPrometheus } from './prometheus.js';
import {
  ErrorSchema,
  FieldsResponseSchema,
  QueryRequestSchema,
  QueryResponseSchema,
  REQUEST_VARIANTS,
} from './schema.js';

/** What the filter compiler (nfdump syntax, query/filter/) answers. */
export type FilterCompileResult =
  | { ok: true; query: object }
  | {
      ok: false;
      error: {
        message: string;
        column: number;
        expected?: readonly string[] | string | undefined;
        found?: string | null | undefined;
      };
    };

export type FilterCompiler = (text: string) => FilterCompileResult | Promise<FilterCompileResult>;

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
  const { client, dataStream } = opts;
  const transport = { requestTimeout: limits.timeoutMs, maxRetries: 0 };
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

  async function compile(
    text: string | undefined,
  ): Promise<estypes.QueryDslQueryContainer | undefined> {
    if (text === undefined || text.trim() === '') return undefined;
    const r = await opts.compileFilter(text);
    if (r.ok) return r.query as estypes.QueryDslQueryContainer;
    const { message, column, expected, found } = r.error;
    throw new QueryError(400, `filter: ${message}`, { column, expected, found });
  }

  async function search(body: SearchBody, withIndex = true): Promise<estypes.SearchResponse> {
    // A data stream with no documents yet (a fresh collector) answers empty, not 404.
    const target = { index: dataStream, ignore_unavailable: true, allow_no_indices: true };
    const res = await client.search(withIndex ? { ...target, ...body } : body, transport);
    if (res.timed_out) {
      throw new QueryError(504, `query timed out after ${limits.timeoutMs} ms`, {
        limit: 'timeoutMs',
        max: limits.timeoutMs,
      });
    }
    return res;
  }

  async function fieldType(field: string): Promise<string | undefined> {
    const caps = await client.fieldCaps(
      { index: dataStream, fields: [field], ignore_unavailable: true, allow_no_indices: true },
      transport,
    );
    const types = Object.keys(caps.fields[field] ?? {});
    return types.length === 1 ? types[0] : undefined;
  }

  /** Every tuple of the fields with its metric (composite pages), ranked: the top N. */
  async function rankedTuples(
    fields: readonly string[],
    metric: Metric,
    raw: boolean | undefined,
    range: TimeRange,
    filter: estypes.QueryDslQueryContainer | undefined,
    top: number,
  ): Promise<{ groups: GroupTotal[]; total: number }> {
    const all: GroupTotal[] = [];
    let total = 0;
    let after: Record<string, FieldValue> | undefined;
    let first = true;
    do {
      const res = await search(tupleSearch(fields, metric, raw, range, filter, limits, after));
      if (first) total = metricTotal(res, metric);
      first = false;
      const page = tuplePage(res, fields, metric);
      all.push(...page.groups);
      if (all.length > limits.maxTuples) {
        throw new QueryError(
          422,
          `more than ${limits.maxTuples} distinct tuples of ${fields.join(', ')}: narrow the filter or the range`,
          { limit: 'maxTuples', max: limits.maxTuples },
        );
      }
      after = page.after;
    } while (after !== undefined);
    return { groups: rankGroups(all, top), total };
  }

  async function run(q: QueryRequest): Promise<Frame[]> {
    const range: TimeRange = timeRange(q, limits);
    if (q.kind === 'metrics') return queryPrometheus(opts.prometheusUrl, q, range, limits);
    // Limits that need no filter come first: a refused request costs nothing.
    if (q.kind === 'records') recordsSize(q, limits);
    const filter = await compile(q.filter);
    switch (q.kind) {
      case 'timeseries': {
        const groupBy = q.groupBy ?? [];
        if (groupBy.length <= 1) {
          const plan = timeseriesSearch(q, range, filter, limits);
          return timeseriesFrames(q, await search(plan.body), plan.intervalMs);
        }
        timeseriesSearch(q, range, filter, limits, []); // the limits, before any search
        const ranked = await rankedTuples(
          groupBy,
          q.metric,
          q.raw,
          range,
          filter,
          q.top ?? DEFAULT_TOP,
        );
        const tuples = ranked.groups.map((g) => g.key);
        const plan = timeseriesSearch(q, range, filter, limits, tuples);
        return timeseriesFrames(q, await search(plan.body), plan.intervalMs, tuples);
      }
      case 'topn': {
        const top = q.top ?? DEFAULT_TOP;
        if (q.fields.length > 1) {
          checkTop(top, limits);
          const ranked = await rankedTuples(q.fields, q.metric, q.raw, range, filter, top);
          return topnFrames(q, ranked.groups, ranked.total, range);
        }
        const res = await search(topnSearch(q, range, filter, limits));
        return topnFrames(q, termsGroups(res, q.metric), metricTotal(res, q.metric), range);
      }
      case 'values': {
        const type =
          q.prefix !== undefined && q.prefix !== '' ? await fieldType(q.field) : undefined;
        const res = await search(valuesSearch(q, range, filter, limits, type));
        return valuesFrames(q, res, !prefixInElasticsearch(type));
      }
      case 'records': {
        const cursor = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
        const pit =
          cursor?.pit ??
          (
            await client.openPointInTime(
              { index: dataStream, keep_alive: '2m', ignore_unavailable: true },
              transport,
            )
          ).id;
        const body = recordsSearch(q, range, filter, limits, pit, cursor?.after);
        const res = await search(body, false);
        const hits = res.hits.hits;
        const last = hits.at(-1)?.sort;
        const pitId = res.pit_id ?? pit;
        let next: string | undefined;
        if (hits.length === body.size && last !== undefined) {
          next = encodeCursor({ pit: pitId, after: last });
        } else {
          await client.closePointInTime({ id: pitId }).catch(() => undefined);
        }
        return recordsFrames(q.fields ?? DEFAULT_RECORD_FIELDS, res, next);
      }
    }
  }

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
      async () => {
        const caps = await client.fieldCaps(
          { index: dataStream, fields: ['*'], ignore_unavailable: true, allow_no_indices: true },
          transport,
        );
        const fields = Object.entries(caps.fields)
          .filter(([name, types]) => {
            const kinds = Object.keys(types);
            return !name.startsWith('_') && !kinds.includes('object') && !kinds.includes('nested');
          })
          .map(([name, types]) => {
            const caps = Object.values(types);
            return {
              name,
              type: caps.length === 1 ? (caps[0]?.type ?? 'unknown') : 'conflict',
              searchable: caps.every((c) => c.searchable),
              aggregatable: caps.every((c) => c.aggregatable),
            };
          })
          .sort((a, b) => a.name.localeCompare(b.name));
        return { fields };
      },
    );
  });
};
