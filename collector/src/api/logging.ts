import { type DestinationStream, type Level, type Logger, pino } from 'pino';

/**
 * Paths pino blanks out of every log line: credentials in HTTP headers (fastify's own
 * request serializer leaves headers out, but a handler or hook logging a request or its
 * headers must not leak them either), on requests and on outgoing client calls.
 */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["proxy-authorization"]',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
];

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  level?: Level | 'silent';
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
  /** More paths to redact, on top of {@link REDACT_PATHS}. */
  redact?: readonly string[];
}

/** The collector's root logger: JSON lines, credentials redacted. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? 'info',
    redact: { paths: [...REDACT_PATHS, ...(opts.redact ?? [])], censor: REDACTED },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/**
 * A child for one component with the redact list applied. pino replaces (does not
 * extend) a parent's redact paths in a child, so the caller's extra paths come along.
 */
export function componentLogger(
  parent: Logger,
  component: string,
  extraRedact: readonly string[] = [],
): Logger {
  return parent.child(
    { component },
    { redact: { paths: [...REDACT_PATHS, ...extraRedact], censor: REDACTED } },
  );
}
