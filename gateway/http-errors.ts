import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';

/** The API's error body, `{statusCode, error, message}`, with the status text as `error`. */
export function sendError(reply: FastifyReply, statusCode: number, message: string) {
  return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message });
}
