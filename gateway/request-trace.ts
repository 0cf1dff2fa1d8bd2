import type { FastifyRequest } from 'fastify';
import { requestTraceHeaders, TRACE_HEADERS } from '../runtime/kafka/trace-context.js';

/** The W3C trace context a request brings (or a new trace), for the records it sends into the pipeline. */
export function requestTrace(request: FastifyRequest): Record<string, string> {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return requestTraceHeaders(header(TRACE_HEADERS.parent), header(TRACE_HEADERS.state));
}
