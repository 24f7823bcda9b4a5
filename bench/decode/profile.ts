// Runs one case in one mode for a few seconds, for a profiler:
// `node --cpu-prof --import tsx bench/decode/profile.ts v5 document 5`.
import { buildCase, isCaseName } from './cases.js';
import { type Mode, Workload } from './sluice.js';

const name = process.argv[2] ?? 'v5';
const mode = (process.argv[3] ?? 'document') as Mode;
const seconds = Number(process.argv[4] ?? '5');
if (!isCaseName(name)) throw new Error(`unknown case ${name}`);
const w = new Workload(mode, buildCase(name).datagrams);
const t0 = performance.now();
const c0 = process.cpuUsage();
let records = 0;
while (performance.now() - t0 < seconds * 1000) records += w.run(20);
const c = process.cpuUsage(c0);
const cpu = (c.user + c.system) / 1e6;
process.stdout.write(`${name} ${mode}: ${(records / cpu / 1000).toFixed(1)}k records/CPU-s\n`);
