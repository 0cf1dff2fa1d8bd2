import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) in Kafka record headers, as
 * OpenTelemetry's messaging conventions carry it (issue 21): a record's `traceparent` names the
 * trace and the span that produced it, so an operator's tracing joins the hops from the gateway's
 * HTTP request through every stage. Each hop keeps the trace id and `tracestate` and gives its
 * outputs a span id of their own.
 */
export const TRACE_HEADERS = { parent: 'traceparent', state: 'tracestate' } as const;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: string;
}

/** The parts of a traceparent, or undefined when it is malformed (version ff, all-zero ids). */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  const match = value?.trim().toLowerCase().match(TRACEPARENT);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags };
}

function traceparentOf(traceId: string, flags: string): string {
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`;
}

/**
 * Headers for a record made from one that carried these: the same trace, a new span; the
 * tracestate passed on. Empty when the input carried no (valid) trace context.
 */
export function childTraceHeaders(
  headers: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const parent = parseTraceparent(headers[TRACE_HEADERS.parent]);
  if (!parent) return {};
  const state = headers[TRACE_HEADERS.state];
  return {
    [TRACE_HEADERS.parent]: traceparentOf(parent.traceId, parent.flags),
    ...(state ? { [TRACE_HEADERS.state]: state } : {}),
  };
}

/**
 * The trace context a request starts in the pipeline: its own `traceparent` (and `tracestate`)
 * when the client sent one, else a new trace (sampled), so every record can be followed.
 */
export function requestTraceHeaders(
  traceparent: string | undefined,
  tracestate: string | undefined,
): Record<string, string> {
  const parent = parseTraceparent(traceparent);
  if (parent)
    return {
      [TRACE_HEADERS.parent]: `00-${parent.traceId}-${parent.spanId}-${parent.flags}`,
      ...(tracestate ? { [TRACE_HEADERS.state]: tracestate } : {}),
    };
  return { [TRACE_HEADERS.parent]: traceparentOf(randomBytes(16).toString('hex'), '01') };
}
