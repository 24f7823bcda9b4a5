// The `metrics` kind: PromQL sent to the configured Prometheus (the OpenTelemetry
// aggregates the collector exports), its answer turned into frames.
import { autoInterval, parseInterval, type TimeRange } from '../es/time.js';
import { type Frame, type MetricsQuery, QueryError, type QueryLimits } from '../es/types.js';

interface PromSeries {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
}

interface PromAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

/** Prometheus writes sample values as text; NaN and infinities have no JSON number. */
function sampleValue(v: string): number | null {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function seriesName(metric: Record<string, string>): string {
  const { __name__: name, ...labels } = metric;
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  return `${name ?? ''}${inner !== '' ? `{${inner}}` : ''}` || 'value';
}

/** One frame per series: a time column and a value column with the series' labels. */
export function promFrames(
  data: { resultType: string; result: unknown },
  stepMs?: number,
): Frame[] {
  const meta = stepMs !== undefined ? { intervalMs: stepMs } : undefined;
  if (data.resultType === 'scalar' && Array.isArray(data.result)) {
    const [t, v] = data.result as [number, string];
    return [
      {
        name: 'scalar',
        fields: [
          { name: 'time', type: 'time', values: [Math.round(t * 1000)] },
          { name: 'value', type: 'number', values: [sampleValue(v)] },
        ],
      },
    ];
  }
  const series = (Array.isArray(data.result) ? data.result : []) as PromSeries[];
  return series.map((s) => {
    const samples = s.values ?? (s.value !== undefined ? [s.value] : []);
    const frame: Frame = {
      name: seriesName(s.metric),
      fields: [
        { name: 'time', type: 'time', values: samples.map(([t]) => Math.round(t * 1000)) },
        {
          name: 'value',
          type: 'number',
          labels: s.metric,
          values: samples.map(([, v]) => sampleValue(v)),
        },
      ],
    };
    if (meta !== undefined) frame.meta = meta;
    return frame;
  });
}

/** Runs the expression (range or instant) against Prometheus with the query deadline. */
export async function queryPrometheus(
  baseUrl: string | undefined,
  q: MetricsQuery,
  range: TimeRange,
  limits: QueryLimits,
): Promise<Frame[]> {
  if (baseUrl === undefined || baseUrl === '') {
    throw new QueryError(400, 'metrics: no Prometheus is configured for this API');
  }
  const params = new URLSearchParams({ query: q.expr, timeout: `${limits.timeoutMs / 1000}s` });
  let path = '/api/v1/query';
  let stepMs: number | undefined;
  if (q.instant === true) {
    params.set('time', String(range.toMs / 1000));
  } else {
    stepMs =
      q.step !== undefined
        ? parseInterval(q.step, 'step')
        : autoInterval(range, q.maxDataPoints ?? 500, 1000);
    const points = Math.floor((range.toMs - range.fromMs) / stepMs) + 1;
    if (points > limits.maxBuckets) {
      throw new QueryError(
        422,
        `${points} points per series is more than the limit of ${limits.maxBuckets}: use a larger step`,
        { limit: 'maxBuckets', value: points, max: limits.maxBuckets },
      );
    }
    path = '/api/v1/query_range';
    params.set('start', String(range.fromMs / 1000));
    params.set('end', String(range.toMs / 1000));
    params.set('step', String(stepMs / 1000));
  }
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
      signal: AbortSignal.timeout(limits.timeoutMs),
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') {
      throw new QueryError(
        504,
        `metrics: Prometheus did not answer within ${limits.timeoutMs} ms`,
        {
          limit: 'timeoutMs',
          max: limits.timeoutMs,
        },
      );
    }
    throw new QueryError(502, `metrics: Prometheus unreachable: ${String(err)}`);
  }
  let body: PromAnswer;
  try {
    body = (await res.json()) as PromAnswer;
  } catch {
    throw new QueryError(502, `metrics: Prometheus answered ${res.status} without JSON`);
  }
  if (body.status !== 'success' || body.data === undefined) {
    const reason = `metrics: Prometheus: ${body.error ?? res.statusText}`;
    if (body.errorType === 'timeout') throw new QueryError(504, reason, { limit: 'timeoutMs' });
    throw new QueryError(body.errorType === 'bad_data' ? 400 : 502, reason);
  }
  return promFrames(body.data, stepMs);
}
