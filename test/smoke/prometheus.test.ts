import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { needServer, startPrometheus, waitFor } from '@sluice/testkit';

test('Prometheus: a value served by the test comes back through the query API', async (t) => {
  // A value Prometheus cannot know unless it really scraped this endpoint.
  const answer = randomInt(1_000, 1_000_000);
  const run = `r${process.pid}`;
  let scrapes = 0;
  const endpoint = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes += 1;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      '# HELP sluice_smoke_answer A value only this test knows.\n' +
        '# TYPE sluice_smoke_answer gauge\n' +
        `sluice_smoke_answer{run="${run}"} ${answer}\n`,
    );
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const { port } = endpoint.address() as AddressInfo;

  const prom = await needServer(t, () =>
    startPrometheus({ targets: [{ job: 'smoke', target: `127.0.0.1:${port}` }] }),
  );
  // after-hooks run in order: stop the scraper first, then drop its kept-alive connections.
  t.after(() => prom?.stop());
  t.after(() => {
    endpoint.closeAllConnections();
    endpoint.close();
  });
  if (!prom) return;

  const sample = await waitFor(
    async () => (await prom.query(`sluice_smoke_answer{run="${run}"}`))[0],
    { what: 'Prometheus to scrape the test endpoint', timeoutMs: 60_000, intervalMs: 500 },
  );
  assert.equal(Number(sample.value[1]), answer);
  assert.equal(sample.metric.job, 'smoke');
  assert.ok(scrapes >= 1, 'the endpoint was scraped');
  const up = await prom.query('up{job="smoke"}');
  assert.equal(up[0]?.value[1], '1');
});
