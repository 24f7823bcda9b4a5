// The collector alone: the same child process and stream as main.ts, but against an
// Elasticsearch stub in this process that accepts every bulk request (each item 201)
// after `--delay` ms, so the collector's own cost shows without Elasticsearch's. A probe
// for profiling, not part of `npm run bench:ingest`:
//
//   node --import tsx bench/ingest/alone.ts [--records N] [--rate R] [--delay MS]
//        [--build dist|compiled|source] [--node-flags "..."] [--threads] [--output FILE]
//
// --threads adds each thread's CPU seconds over the run (the main thread, the decode
// workers, the receive thread and V8's helpers); --output writes the collector's output
// (e.g. with --node-flags=--trace-gc).
// Prints records/s (first datagram sent to the last document answered), the collector's
// CPU seconds per million records (/proc, all threads) and its peak RSS (VmHWM).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { installCleanup } from '../decode/children.js';
import {
  BIN_NODE_FLAGS,
  type CollectorBuild,
  compileCollector,
  freshestBuild,
  startCollector,
} from './collector-child.js';
import { cpuSeconds, statusBytes, threadCpuSeconds, udpDrops } from './proc.js';
import { send } from './sender.js';
import { buildStream } from './stream.js';

installCleanup();

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    rate: { type: 'string' },
    delay: { type: 'string', default: '0' },
    build: { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    threads: { type: 'boolean', default: false },
    output: { type: 'string' },
  },
});
const build: CollectorBuild =
  args.build === 'dist' || args.build === 'compiled' || args.build === 'source'
    ? args.build
    : freshestBuild();
const delayMs = Number(args.delay);

let answered = 0;
const stub = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('x-elastic-product', 'Elasticsearch');
    res.setHeader('content-type', 'application/json');
    const url = req.url ?? '';
    if (url.includes('/_bulk')) {
      const body = Buffer.concat(chunks).toString();
      let n = 0;
      for (let i = body.indexOf('{"create"'); i >= 0; i = body.indexOf('\n{"create"', i + 1)) n++;
      const items = Array.from({ length: n }, () => ({ create: { status: 201 } }));
      setTimeout(() => {
        answered += n;
        res.end(JSON.stringify({ errors: false, items }));
      }, delayMs);
    } else if (req.method === 'GET' && url.includes('_index_template')) {
      res.statusCode = 404; // no template yet: the collector puts its own
      res.end('{"error":"not found","status":404}');
    } else res.end('{"acknowledged":true}');
  });
});
await new Promise<void>((r) => stub.listen(0, '127.0.0.1', () => r()));
const url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;

if (build === 'compiled') compileCollector();
const stream = buildStream(Math.ceil(Number(args.records) / 30));
const c = await startCollector({
  elasticsearchUrl: url,
  dataStream: 'logs-netflow.benchalone-default',
  build,
  nodeFlags: (args['node-flags'] ?? '').split(' ').filter((f) => f !== ''),
});
const cpu0 = cpuSeconds(c.pid);
const threads0 = threadCpuSeconds(c.pid);
const t0 = performance.now();
const sent = await send(stream, c.udpPort, args.rate !== undefined ? Number(args.rate) : undefined);
let last = -1;
let lastChange = performance.now();
while (answered < sent.records) {
  await new Promise((r) => setTimeout(r, 50));
  if (answered !== last) {
    last = answered;
    lastChange = performance.now();
  } else if (performance.now() - lastChange > 10_000) break; // lost datagrams: stop waiting
}
const seconds = (performance.now() - lastChange > 10_000 ? lastChange : performance.now()) - t0;
const cpu = cpuSeconds(c.pid) - cpu0;
process.stdout.write(
  `collector alone (${build} ${[...BIN_NODE_FLAGS, args['node-flags'] ?? ''].join(' ').trim()}, stub delay ${delayMs} ms): ` +
    `${answered}/${sent.records} records in ${(seconds / 1000).toFixed(1)} s = ${(answered / (seconds / 1000)).toFixed(0)} rec/s; ` +
    `CPU ${cpu.toFixed(2)} s = ${((cpu / Math.max(1, answered)) * 1e6).toFixed(1)} s per M; ` +
    `peak RSS ${(statusBytes(c.pid, 'VmHWM') / 1048576).toFixed(0)} MiB; kernel drops ${await udpDrops(c.udpPort)}\n`,
);
if (args.threads) {
  const rows = [...threadCpuSeconds(c.pid)]
    .map(([tid, s]) => ({ tid, s: s - (threads0.get(tid) ?? 0) }))
    .filter((r) => r.s > 0)
    .sort((a, b) => b.s - a.s);
  for (const r of rows) {
    const label = r.tid === c.pid ? 'main' : `thread ${r.tid}`;
    process.stdout.write(
      `  ${label.padEnd(14)} ${r.s.toFixed(2)} s = ${((r.s / Math.max(1, answered)) * 1e6).toFixed(2)} us per record\n`,
    );
  }
}
if (args.output !== undefined) writeFileSync(args.output, c.output());
await c.stop();
stub.close();
