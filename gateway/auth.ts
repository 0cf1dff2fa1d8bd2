import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './http-errors.js';

const digest = (key: string) => createHash('sha256').update(key).digest();

/** The key a request presents: `Authorization: Bearer <key>`, or `access_token` (browser WebSockets). */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const query = request.query as { access_token?: unknown } | undefined;
  return typeof query?.access_token === 'string' ? query.access_token : undefined;
}

/**
 * An onRequest hook that lets through only requests with one of the configured API keys.
 * Comparison is on SHA-256 digests in constant time, so neither the keys' contents nor their
 * lengths leak through timing. The answer is the same 401 for every protected path, whether or
 * not what it names exists.
 */
export function apiKeyCheck(keys: readonly string[]) {
  const accepted = keys.map(digest);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = presentedKey(request);
    const candidate = key === undefined ? undefined : digest(key);
    let ok = false;
    for (const known of accepted) if (candidate && timingSafeEqual(known, candidate)) ok = true;
    if (!ok) {
      reply.header('WWW-Authenticate', 'Bearer realm="emotion-stream"');
      return sendError(reply, 401, 'missing or invalid API key: send Authorization: Bearer <key>');
    }
  };
}
