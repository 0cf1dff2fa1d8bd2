import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextOfHeaders, headersOfContext, traceHeadersOf } from '../runtime/tracing/record-context.js';
import { TRACER_NAME } from '../runtime/tracing/record-spans.js';
import { tracingEnabled } from '../runtime/tracing/start-tracing.js';

/** A request's SERVER span and the context it continues. */
interface RequestSpan {
  span: Span;
  parent: Context;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by traceRequests when tracing is on. */
    traceSpan: RequestSpan | null;
  }
}

/**
 * A span per HTTP request (OpenTelemetry's HTTP server conventions: `<METHOD> <route>`, kind
 * SERVER), continuing the caller's W3C `traceparent` or starting a trace. A hook instead of
 * @opentelemetry/instrumentation-fastify, which needs the http instrumentation's module patching
 * loaded before Fastify: here the span is ours, and off there are no hooks at all. A kept
 * request's handler runs in its span's context, so its log lines carry trace_id and span_id
 * (runtime/logger.ts).
 *
 * What a request costs matters here: `POST /v1/predict` answers in about 130 µs of CPU. Measured
 * with bench predict --tracing (fast tier): a WeakMap of requests, async hooks and a pino child
 * logger per kept request added 30 µs a request; the span sits on the request (a Fastify
 * decoration), the hook takes a callback, and everything but the span and its ids (the response's
 * listener too) is done only for the requests that are kept (one in ten by default).
 */
export function traceRequests(app: FastifyInstance): void {
  if (!tracingEnabled()) return;
  const tracer = trace.getTracer(TRACER_NAME);
  app.decorateRequest('traceSpan', null);
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const parent = contextOfHeaders(request.headers);
    const span = tracer.startSpan(`${request.method} ${route}`, { kind: SpanKind.SERVER }, parent);
    request.traceSpan = { span, parent };
    if (!span.isRecording()) {
      done();
      return;
    }
    span.setAttributes({
      'http.request.method': request.method,
      'http.route': route,
      'url.path': request.url.split('?')[0] ?? request.url,
      'server.port': request.socket.localPort ?? 0,
      ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
    });
    // Ended when the response is written or the connection drops: a listener on the kept
    // requests only, where an onResponse hook would run for every request.
    reply.raw.once('close', () => {
      const status = reply.raw.writableFinished ? reply.raw.statusCode : 0;
      if (status > 0) span.setAttribute('http.response.status_code', status);
      if (status >= 500 || status === 0)
        span.setStatus({ code: SpanStatusCode.ERROR, message: status ? undefined : 'connection closed' });
      span.end();
    });
    // The rest of the request (its handler, its log lines) runs in the span's context.
    context.with(trace.setSpan(parent, span), done);
  });
}

/**
 * The trace headers for the records a request sends into the pipeline: its span's context when
 * the request is traced, else the caller's own `traceparent` (and `tracestate`) passed on
 * unchanged (none when the caller sent none).
 */
export function requestTrace(request: FastifyRequest): Record<string, string> {
  const traced = request.traceSpan;
  // A request the sampler did not keep sends no new context: its records are not traced.
  if (traced?.span.isRecording()) return headersOfContext(trace.setSpan(traced.parent, traced.span));
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return traceHeadersOf({ traceparent: header('traceparent'), tracestate: header('tracestate') });
}
