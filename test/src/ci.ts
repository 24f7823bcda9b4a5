import type { TestContext } from 'node:test';
import { ServerUnavailableError } from './errors.js';

/** True when running under CI (CI=true), where a missing server is a failure, never a skip. */
export function inCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/**
 * Starts (or reuses) a server for a test. When a prerequisite is missing, the test is
 * skipped with a message naming what to install, except under CI=true where the error
 * is rethrown and the test fails. A server that was present but failed to start always
 * fails the test, with its log tail.
 */
export async function needServer<T>(
  t: TestContext,
  start: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof ServerUnavailableError && !inCI()) {
      t.skip(err.message);
      return undefined;
    }
    throw err;
  }
}
