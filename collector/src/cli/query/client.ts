// Where `sluice query` and `sluice top` get their frames: a running collector's query API
// (POST /api/v1/query) or Elasticsearch directly, through the same pure builders the API
// uses (query/es/), so both answer with the same numbers.
import { type Client, errors } from '@elastic/elasticsearch';
import { createQueryRunner } from '../../query/es/runner.js';
import {
  DEFAULT_LIMITS,
  type Frame,
  QueryError,
  type QueryLimits,
  type QueryRequest,
} from '../../query/es/types.js';
import { compileFilter } from '../../query/filter/index.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:9850';
export const TOKEN_ENV = 'SLUICE_API_TOKEN';

/** A failed query, said plainly; the CLI prints the message and exits with the code. */
export class QueryFailed extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'QueryFailed';
  }
}

/** Runs query requests (every kind but `metrics` directly; all kinds through the API). */
export interface QueryBackend {
  /** Where the frames come from, for headers and messages (never a credential). */
  readonly description: string;
  run(q: QueryRequest): Promise<Frame[]>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Through the collector's query API.

export interface ApiBackendOptions {
  url: string;
  token?: string | undefined;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch;
}

function apiError(url: string, status: number, body: unknown): QueryFailed {
  const text =
    typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string'
      ? body.error
      : `HTTP ${status}`;
  if (status === 401) {
    return new QueryFailed(
      `query API at ${url} refused the request: ${text} (give the collector's token with --token or ${TOKEN_ENV})`,
    );
  }
  if (status === 404) {
    return new QueryFailed(
      `no query API at ${url} (HTTP 404): is the query API enabled on that collector?`,
    );
  }
  return new QueryFailed(`query API at ${url}: ${text} (HTTP ${status})`);
}

/** The collector's API; the token is sent as a bearer token and never printed. */
export function apiBackend(opts: ApiBackendOptions): QueryBackend {
  const base = opts.url.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LIMITS.timeoutMs + 5000;
  return {
    description: base,
    async run(q) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.token !== undefined && opts.token !== '') {
        headers.authorization = `Bearer ${opts.token}`;
      }
      let res: Response;
      try {
        res = await doFetch(`${base}/api/v1/query`, {
          method: 'POST',
          headers,
          body: JSON.stringify(q),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new QueryFailed(
          `cannot reach the query API at ${base}: ${why} (is \`sluice collect\` running there? or query Elasticsearch directly with --elasticsearch)`,
        );
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        body = undefined;
      }
      if (!res.ok) throw apiError(base, res.status, body);
      const frames =
        typeof body === 'object' && body !== null && 'frames' in body ? body.frames : undefined;
      if (!Array.isArray(frames)) {
        throw new QueryFailed(`query API at ${base}: the answer has no frames`);
      }
      return frames as Frame[];
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------
// Directly against Elasticsearch: the API's steps, with the same builders and frames.

export interface ElasticsearchBackendOptions {
  client: Client;
  dataStream: string;
  limits?: Partial<QueryLimits> | undefined;
  /** Close the client with the backend (when the CLI made it). */
  ownsClient?: boolean;
  /** Shown in messages instead of the client's URL (which may carry credentials). */
  description?: string;
}

function elasticReason(err: errors.ResponseError): string {
  const body = err.body as
    | { error?: { root_cause?: { reason?: string }[]; reason?: string } }
    | undefined;
  return body?.error?.root_cause?.[0]?.reason ?? body?.error?.reason ?? err.message;
}

/** Elasticsearch's errors as one line that says where and why. */
function elasticFailure(err: unknown, where: string): unknown {
  if (err instanceof QueryError) {
    return new QueryFailed(err.message);
  }
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    if (status === 401 || status === 403) {
      return new QueryFailed(
        `Elasticsearch at ${where} refused the credentials (HTTP ${status}): put them in the URL (https://user:password@host:9200)`,
      );
    }
    return new QueryFailed(`Elasticsearch at ${where}: ${elasticReason(err)} (HTTP ${status})`);
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError) {
    return new QueryFailed(`cannot reach Elasticsearch at ${where}: ${err.message}`);
  }
  if (err instanceof errors.TimeoutError) {
    return new QueryFailed(`Elasticsearch at ${where}: the query timed out`);
  }
  return err;
}

export function elasticsearchBackend(opts: ElasticsearchBackendOptions): QueryBackend {
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { client, dataStream } = opts;
  const where = opts.description ?? dataStream;
  const { run } = createQueryRunner({
    client,
    dataStream,
    compileFilter,
    limits,
    metrics: async () => {
      throw new QueryError(400, 'metrics (PromQL) queries go through the collector API (--api)');
    },
    filterError: (e) => new QueryError(400, `filter: ${e.message} (column ${e.column})`),
    records: 'one-page',
  });

  return {
    description: where,
    async run(q) {
      try {
        return await run(q);
      } catch (err) {
        throw elasticFailure(err, where);
      }
    },
    async close() {
      if (opts.ownsClient === true) await client.close();
    },
  };
}

/**
 * Frames as the CLI shows them: a records page's cursor is dropped (the CLI shows one
 * page), so both backends print the same thing.
 */
export function withoutCursors(frames: readonly Frame[]): Frame[] {
  return frames.map((f) => {
    if (f.meta?.nextCursor === undefined) return f;
    const { nextCursor: _, ...meta } = f.meta;
    return { ...f, meta };
  });
}
