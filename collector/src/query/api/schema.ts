// The HTTP shapes of the query API as TypeBox schemas: they validate requests, serialize
// responses and become the OpenAPI document at /docs.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { Frame, QueryRequest } from '../es/types.js';

const Time = Type.Union([Type.String(), Type.Number()], {
  description: 'ISO 8601 text or epoch milliseconds',
});
const Field = Type.String({ minLength: 1, maxLength: 256, description: 'an indexed field' });
const Duration = Type.Union(
  [Type.String({ pattern: '^\\d+(ms|s|m|h|d)$' }), Type.Integer({ minimum: 1 })],
  {
    description: '`30s`, `5m`, `1h`, `1d`, or milliseconds',
  },
);
const Metric = Type.Union([Type.Literal('bytes'), Type.Literal('packets'), Type.Literal('flows')], {
  description:
    'bytes and packets are sums (scaled by the sampling rate unless raw); flows counts flow documents',
});

const common = {
  from: Time,
  to: Time,
  filter: Type.Optional(Type.String({ maxLength: 10_000, description: 'nfdump filter' })),
};
const measure = {
  metric: Metric,
  rate: Type.Optional(Type.Boolean({ description: 'per second instead of per bucket or range' })),
  raw: Type.Optional(Type.Boolean({ description: 'counts as exported, not sampling-scaled' })),
};
const Top = Type.Integer({
  minimum: 1,
  maximum: 10_000,
  description: 'how many groups (default 10)',
});

export const TimeseriesRequest = Type.Object(
  {
    kind: Type.Literal('timeseries'),
    ...common,
    ...measure,
    interval: Type.Optional(Duration),
    maxDataPoints: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    minIntervalMs: Type.Optional(Type.Integer({ minimum: 1 })),
    groupBy: Type.Optional(Type.Array(Field, { maxItems: 3 })),
    top: Type.Optional(Top),
  },
  { additionalProperties: false, title: 'timeseries' },
);

export const TopnRequest = Type.Object(
  {
    kind: Type.Literal('topn'),
    ...common,
    ...measure,
    fields: Type.Array(Field, { minItems: 1, maxItems: 3 }),
    top: Type.Optional(Top),
  },
  { additionalProperties: false, title: 'topn' },
);

export const RecordsRequest = Type.Object(
  {
    kind: Type.Literal('records'),
    ...common,
    fields: Type.Optional(Type.Array(Field, { minItems: 1, maxItems: 200 })),
    sort: Type.Optional(
      Type.Array(
        Type.Object(
          {
            field: Field,
            order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
          },
          { additionalProperties: false },
        ),
        { maxItems: 5 },
      ),
    ),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'page size (default 100)' })),
    cursor: Type.Optional(Type.String({ description: "the previous page's meta.nextCursor" })),
  },
  { additionalProperties: false, title: 'records' },
);

export const ValuesRequest = Type.Object(
  {
    kind: Type.Literal('values'),
    ...common,
    field: Field,
    prefix: Type.Optional(Type.String({ maxLength: 256 })),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'default 100' })),
  },
  { additionalProperties: false, title: 'values' },
);

export const MetricsRequest = Type.Object(
  {
    kind: Type.Literal('metrics'),
    expr: Type.String({ minLength: 1, maxLength: 10_000, description: 'PromQL' }),
    from: Time,
    to: Time,
    instant: Type.Optional(Type.Boolean({ description: 'evaluate once at `to`' })),
    step: Type.Optional(Duration),
    maxDataPoints: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false, title: 'metrics' },
);

/** One of the kinds, told apart by `kind`. */
export const QueryRequestSchema = Type.Union(
  [TimeseriesRequest, TopnRequest, RecordsRequest, ValuesRequest, MetricsRequest],
  { description: 'a query, by kind' },
);

/** The variants by `kind`, for errors that name the problem in the variant meant. */
export const REQUEST_VARIANTS: Record<string, TSchema> = {
  timeseries: TimeseriesRequest,
  topn: TopnRequest,
  records: RecordsRequest,
  values: ValuesRequest,
  metrics: MetricsRequest,
};

const FrameFieldSchema = Type.Object({
  name: Type.String(),
  type: Type.Union([
    Type.Literal('time'),
    Type.Literal('number'),
    Type.Literal('string'),
    Type.Literal('boolean'),
  ]),
  unit: Type.Optional(Type.String({ description: 'a Grafana unit id' })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  // Left open for the serializer (a per-item anyOf is slow on large frames).
  values: Type.Array(Type.Unknown(), {
    description: 'numbers (time: epoch ms), strings, booleans or null, per the type',
  }),
});

export const FrameSchema = Type.Object({
  name: Type.Optional(Type.String()),
  meta: Type.Optional(
    Type.Object({
      intervalMs: Type.Optional(Type.Number()),
      nextCursor: Type.Optional(Type.String()),
      total: Type.Optional(Type.Number()),
    }),
  ),
  fields: Type.Array(FrameFieldSchema),
});

export const QueryResponseSchema = Type.Object({ frames: Type.Array(FrameSchema) });

export const ErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'what is wrong, for people' }),
    column: Type.Optional(Type.Integer({ description: 'filter errors: 1-based column' })),
    expected: Type.Optional(Type.Unknown()),
    found: Type.Optional(Type.Unknown()),
    limit: Type.Optional(Type.String({ description: 'the limit exceeded' })),
    value: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
  },
  { additionalProperties: true },
);

export const FieldsResponseSchema = Type.Object({
  fields: Type.Array(
    Type.Object({
      name: Type.String(),
      type: Type.String({ description: 'Elasticsearch type, or `conflict`' }),
      searchable: Type.Boolean(),
      aggregatable: Type.Boolean(),
    }),
  ),
});

// The schemas and the model of es/types.ts must describe the same data.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const requestMatches: Same<Static<typeof QueryRequestSchema>, QueryRequest> = true;
const frameMatches: [Frame] extends [Static<typeof FrameSchema>] ? true : false = true;
void requestMatches;
void frameMatches;
