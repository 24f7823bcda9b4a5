// The collector's HTTP API on a real port: probes, readiness with real check results,
// /metrics from the Prometheus exporter, and logs that never carry credentials.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, REDACTED } from '../src/api/logging.js';
import type { CheckResult } from '../src/api/readiness.js';
import { buildApi, startApi } from '../src/api/server.js';
import { createMetrics } from '../src/metrics/provider.js';

/** A pino destination that keeps every line, for assertions on what was logged. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination: stream }) };
}

test('/healthz answers 200 {status: ok}', async (t) => {
  const api = await startApi({ logger: createLogger({ level: 'silent' }), port: 0 });
  t.after(() => api.close());
  assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${api.url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('/readyz: 503 with the failing check detail, 200 once all pass', async (t) => {
  const { lines, logger } = capture();
  let es: CheckResult = { ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:9200' };
  const api = await startApi({
    logger,
    port: 0,
    checks: {
      listeners: async () => ({ ok: true, detail: 'udp 2055, 4739, 6343 bound' }),
      journal: async () => ({ ok: true, detail: '/var/lib/sluice/journal writable' }),
      elasticsearch: async () => es,
    },
  });
  t.after(() => api.close());

  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${api.url}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      status: 'not ready',
      checks: {
        listeners: { ok: true, detail: 'udp 2055, 4739, 6343 bound' },
        journal: { ok: true, detail: '/var/lib/sluice/journal writable' },
        elasticsearch: { ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:9200' },
      },
    });
  }
  es = { ok: true, detail: 'green, 1 node' };
  const res = await fetch(`${api.url}/readyz`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { status: string; checks: Record<string, CheckResult> };
  assert.equal(body.status, 'ready');
  assert.deepEqual(body.checks.elasticsearch, { ok: true, detail: 'green, 1 node' });

  // A failing check is logged once per change, not on every probe.
  const logged = lines.map((l) => JSON.parse(l) as { msg: string; check?: string });
  assert.equal(logged.filter((l) => l.msg === 'readiness check failing').length, 1);
  assert.equal(logged.filter((l) => l.msg === 'readiness check passing again').length, 1);
  // Probe requests themselves are not logged at info.
  assert.equal(logged.filter((l) => l.msg === 'incoming request').length, 0);
});

test('/readyz: a check that throws or never answers fails with the reason', async (t) => {
  const api = await startApi({
    logger: createLogger({ level: 'silent' }),
    port: 0,
    checkTimeoutMs: 100,
    checks: {
      thrower: () => {
        throw new Error('journal directory missing');
      },
      rejecter: async () => {
        throw new Error('EACCES');
      },
      hang: () => new Promise<CheckResult>(() => {}),
    },
  });
  t.after(() => api.close());
  const res = await fetch(`${api.url}/readyz`);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), {
    status: 'not ready',
    checks: {
      thrower: { ok: false, detail: 'check failed: journal directory missing' },
      rejecter: { ok: false, detail: 'check failed: EACCES' },
      hang: { ok: false, detail: 'no answer within 100 ms' },
    },
  });
});

test('/metrics: Prometheus text when enabled, 404 when not', async (t) => {
  const metrics = createMetrics({ prometheus: true });
  const on = await startApi({ logger: createLogger({ level: 'silent' }), metrics, port: 0 });
  const off = await startApi({
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ prometheus: false }),
    port: 0,
  });
  t.after(async () => {
    await on.close();
    await off.close();
    await metrics.shutdown();
  });
  metrics.self.documents('indexed', 3);
  const res = await fetch(`${on.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  assert.match(text, /^# TYPE sluice_documents_total counter$/m);
  assert.match(text, /^sluice_documents_total\{sluice_document_outcome="indexed",[^}]*\} 3$/m);
  assert.equal((await fetch(`${off.url}/metrics`)).status, 404);
});

test('logs: authorization headers and cookies are redacted', async (t) => {
  const { lines, logger } = capture();
  const app = buildApi({ logger, redact: ['elasticsearch.password'] });
  // A route logging what a careless handler might: the request headers.
  app.get('/echo', async (req) => {
    req.log.info({ headers: req.headers }, 'headers');
    req.log.info({ req: { headers: req.headers } }, 'request');
    req.log.info({ elasticsearch: { url: 'http://es:9200', password: 'es-secret' } }, 'config');
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const addr = app.server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
  const res = await fetch(`http://127.0.0.1:${port}/echo`, {
    headers: {
      authorization: 'Bearer top-secret-token',
      cookie: 'session=cookie-secret',
      'x-api-key': 'key-secret',
      'proxy-authorization': 'Basic proxy-secret',
    },
  });
  assert.equal(res.status, 200);
  const all = lines.join('\n');
  for (const secret of [
    'top-secret-token',
    'cookie-secret',
    'key-secret',
    'proxy-secret',
    'es-secret',
  ]) {
    assert.ok(!all.includes(secret), `${secret} must not be logged`);
  }
  const headersLine = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'headers');
  assert.equal(headersLine?.headers.authorization, REDACTED);
  assert.equal(headersLine?.component, 'api');
  // Ordinary routes keep fastify's request lines at info (only probes are quieted).
  assert.ok(lines.some((l) => JSON.parse(l).msg === 'incoming request'));
  const config = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'config');
  assert.equal(config?.elasticsearch.url, 'http://es:9200');
});
