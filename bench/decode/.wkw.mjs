import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { buildCase } = await import('/work/main/bench/decode/cases.ts');
const { Workload } = await import('/work/main/bench/decode/sluice.ts');
const { c, secs, mode } = workerData;
const w = new Workload(mode ?? 'buffer', buildCase(c).datagrams);
let t0 = performance.now();
while (performance.now() - t0 < 1000) w.run(20);
t0 = performance.now();
let n = 0;
while (performance.now() - t0 < secs * 1000) n += w.run(20);
parentPort.postMessage(n / ((performance.now() - t0) / 1000));
