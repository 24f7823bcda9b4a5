// One Sluice measurement (sluice.ts `measure`) in a worker thread with the collector's
// decode-worker heap limits: the collector decodes and writes documents in such a thread
// (collect/decode-pool.ts), so that is where its speed is measured. The case's datagrams
// are built here again from its name (buildCase is deterministic).
import { parentPort, workerData } from 'node:worker_threads';
import { buildCase, type CaseName } from './cases.js';
import { type Mode, measure } from './sluice.js';

export interface MeasureJob {
  name: CaseName;
  mode: Mode;
  seconds: number;
  reps: number;
  warmupS: number;
}

const job = workerData as MeasureJob;
const c = buildCase(job.name);
parentPort?.postMessage(measure(job.mode, c.datagrams, job.seconds, job.reps, job.warmupS));
