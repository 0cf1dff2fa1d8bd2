import { type Context, context, propagation, ROOT_CONTEXT, type TextMapGetter } from '@opentelemetry/api';

/** The W3C Trace Context headers (https://www.w3.org/TR/trace-context/) a record carries. */
export const TRACE_HEADERS = { parent: 'traceparent', state: 'tracestate' } as const;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/**
 * The trace context in a record's (or an HTTP request's) headers, read by the global propagator
 * (W3C Trace Context, registered by startTracing): the root context when there is none or it is
 * malformed.
 */
export function contextOfHeaders(headers: Headers): Context {
  // Most requests and records carry none: skip the propagator's parse and its new context.
  if (headers[TRACE_HEADERS.parent] === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** The headers that carry `ctx` on to a record produced in it (empty for a context without a span). */
export function headersOfContext(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  return headers;
}

/** Only the trace headers of a record's headers: what passes on unchanged when tracing is off. */
export function traceHeadersOf(
  headers: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const parent = headers[TRACE_HEADERS.parent];
  if (!parent) return {};
  const state = headers[TRACE_HEADERS.state];
  return { [TRACE_HEADERS.parent]: parent, ...(state ? { [TRACE_HEADERS.state]: state } : {}) };
}
