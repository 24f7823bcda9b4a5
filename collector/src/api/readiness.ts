export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** One readiness condition: listeners bound, journal writable, Elasticsearch reachable. */
export type ReadinessCheck = () => Promise<CheckResult>;

export type ReadinessChecks = Readonly<Record<string, ReadinessCheck>>;

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one check with a deadline; a throw or a timeout is a failure with its reason. */
async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  try {
    const result = await Promise.race([
      // Through then() so a check that throws synchronously is a failure, not a crash.
      Promise.resolve()
        .then(check)
        .then(
          (r) => ({ ok: r.ok === true, detail: String(r.detail) }),
          (err: unknown) => ({ ok: false, detail: `check failed: ${message(err)}` }),
        ),
      deadline,
    ]);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once; ready only when all pass (no checks: ready). */
export async function runChecks(
  checks: ReadinessChecks,
  timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map((name) => {
      const check = checks[name];
      return check
        ? runOne(check, timeoutMs)
        : Promise.resolve({ ok: false, detail: 'no such check' });
    }),
  );
  const out: Record<string, CheckResult> = {};
  names.forEach((name, i) => {
    out[name] = results[i] ?? { ok: false, detail: 'no result' };
  });
  return { ready: results.every((r) => r.ok), checks: out };
}
