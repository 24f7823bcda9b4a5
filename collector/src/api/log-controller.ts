import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Probes and scrapes (every few seconds, forever): their request lines go to debug
     * instead of info. Errors are still logged as usual.
     */
    quietLog?: boolean;
  }
}

function quiet(request: FastifyRequest): boolean {
  return request.routeOptions.config.quietLog === true;
}

/**
 * Fastify's request logging, with routes marked `config: { quietLog: true }` logged at
 * debug. (A route-level `logLevel` would not do: it sets the request logger's level, and
 * so could make a probe log even when the collector's logger is set quieter.)
 */
export class ProbeLogController extends LogController {
  override incomingRequest(
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (!quiet(request)) {
      super.incomingRequest(request, reply, metadata);
    } else if (!this.isLogDisabled(request)) {
      request.log.debug({ req: request }, 'incoming request');
    }
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error || !quiet(request)) {
      super.requestCompleted(error, request, reply, metadata);
    } else if (!this.isLogDisabled(request)) {
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}
