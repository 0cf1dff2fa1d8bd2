import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * An error that carries its HTTP status (issue 20): a route or a part it calls throws it, and the
 * app's one error handler answers with the one body shape below. Statuses of 500 and up are not
 * for these: unexpected failures stay internal errors, an unavailable dependency is a 503 from
 * RetryableError.
 */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The API's error body, `{statusCode, error, message}`, with the status text as `error`. */
export function sendError(reply: FastifyReply, statusCode: number, message: string) {
  return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
}
