/**
 * Property-test runs: a few thousand in the normal suite; SLUICE_FUZZ_RUNS (set by
 * `npm run fuzz`) raises every property to that many inputs for the long run.
 */
export function fuzzRuns(normal: number): number {
  const n = Number(process.env.SLUICE_FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : normal;
}
