// The document writer alone, on records decoded once: `node --import tsx
// bench/decode/writer-only.ts [case] [seconds]` prints ns per document (writeDocument
// into one reusable buffer), for comparing writer changes without the decoder's share.
// PER=n documents per buffer reset (default 1000, the bench's bulk body).
import { FlowDecoder } from '../../collector/src/flow/decoder.js';
import { writeDocument } from '../../collector/src/flow/document.js';
import { JsonOut } from '../../collector/src/flow/json-out.js';
import type { FlowRecord } from '../../collector/src/flow/record.js';
import { buildCase, isCaseName } from './cases.js';

const name = process.argv[2] ?? 'v5';
const seconds = Number(process.argv[3] ?? '3');
if (!isCaseName(name)) throw new Error(`unknown case ${name}`);
const decoder = new FlowDecoder();
const records: FlowRecord[] = [];
for (const d of buildCase(name).datagrams) records.push(...decoder.decode(d).records);
// HOT=n: only the first n records, which stay in cache (as in the pipeline, where a
// record is written right after it is decoded). Beware: n records written over and over
// also train the branch predictors on them, so HOT figures flatter every writer; a change
// must also pay in `profile.ts <case> buffer` before it counts.
if (process.env.HOT) records.length = Math.min(records.length, Number(process.env.HOT));
const out = new JsonOut(4 << 20);
const PER = Number(process.env.PER ?? 1000);
let docs = 0;
let i = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
while (performance.now() - t0 < seconds * 1000) {
  for (let k = 0; k < PER; k++) {
    writeDocument(out, records[i] as FlowRecord);
    i = i + 1 === records.length ? 0 : i + 1;
  }
  out.reset();
  docs += PER;
}
const c = process.cpuUsage(c0);
const cpuNs = (c.user + c.system) * 1000;
process.stdout.write(`${name} writer: ${(cpuNs / docs).toFixed(0)} ns/document\n`);
