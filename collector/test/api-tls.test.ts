// The collector's HTTP API: optional TLS, and loopback-only when the query API has no token.
import assert from 'node:assert/strict';
import { get } from 'node:https';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { needServer, selfSignedCertificate } from '@sluice/testkit';
import pino from 'pino';
import { startApi } from '../src/api/server.js';
import { compileFilter } from '../src/query/filter/index.js';

function httpsGet(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, ca ? { ca } : {}, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

test('API over TLS: served with the configured certificate; an unknown CA is refused', async (t) => {
  const tls = await needServer(t, async () => selfSignedCertificate());
  if (!tls) return;
  const api = await startApi({
    logger: pino({ level: 'silent' }),
    port: 0,
    tls: { key: tls.key, cert: tls.cert },
  });
  t.after(() => api.close());
  assert.match(api.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const res = await httpsGet(`${api.url}/healthz`, tls.cert);
  assert.equal(res.status, 200);
  await assert.rejects(httpsGet(`${api.url}/healthz`), /self.signed|certificate/i);
});

test('API without a query token binds to loopback only, and says so', async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
  const client = new Client({ node: 'http://127.0.0.1:9' });
  t.after(() => client.close());
  const api = await startApi({
    logger,
    host: '0.0.0.0',
    port: 0,
    query: { client, dataStream: 'logs-netflow.sluice-default', compileFilter, tokens: [] },
  });
  t.after(() => api.close());
  assert.match(api.url, /^http:\/\/127\.0\.0\.1:/);
  assert.ok(lines.some((l) => l.includes('binding the HTTP API to 127.0.0.1 only')));
  // With a token, the requested address is kept and the query routes ask for it.
  const open = await startApi({
    logger,
    host: '0.0.0.0',
    port: 0,
    query: {
      client,
      dataStream: 'logs-netflow.sluice-default',
      compileFilter,
      tokens: ['a-long-enough-test-token'],
    },
  });
  t.after(() => open.close());
  assert.match(open.url, /^http:\/\/0\.0\.0\.0:/);
  const port = new URL(open.url).port;
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/fields`);
  assert.equal(r.status, 401);
});
