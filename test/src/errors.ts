/**
 * A prerequisite of a test server is missing on this machine (a binary, a JDK...).
 * Outside CI a test may skip on it; under CI=true it fails the run.
 * The message names what to install.
 */
export class ServerUnavailableError extends Error {
  override name = 'ServerUnavailableError';
}

/** A server was started but did not become ready, or died. Carries its log tail. */
export class ServerStartError extends Error {
  override name = 'ServerStartError';
  constructor(
    message: string,
    readonly logTail: string,
    readonly logFile: string,
  ) {
    super(`${message}\n--- last lines of ${logFile} ---\n${logTail}\n--- end of log ---`);
  }
}
