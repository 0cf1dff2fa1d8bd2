import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { spanLogFields } from '../logger.js';
import { contextOfHeaders, headersOfContext, TRACE_HEADERS, traceHeadersOf } from './record-context.js';
import { tracingEnabled } from './start-tracing.js';

/** The instrumentation scope of every span the product records. */
export const TRACER_NAME = 'emotion-stream';

const tracer = () => trace.getTracer(TRACER_NAME);

/** A consumed record as the tracing sees it: where it was read, and its headers. */
export interface TracedRecord {
  topic: string;
  partition: number;
  offset: string | bigint;
  headers: Readonly<Record<string, string | undefined>>;
}

/** The `process` span of one consumed record, and the context its outputs are produced in. */
export interface RecordSpan {
  span: Span;
  context: Context;
}

/**
 * A span per consumed record, as OpenTelemetry's messaging conventions name it
 * (semantic-conventions messaging/kafka.md: `process <destination>`, kind CONSUMER, system
 * `kafka`, destination, partition, offset, consumer group): the hop of one record through a
 * stage or a sink, from when its batch is taken until its batch is committed, a child of the
 * context the record carries.
 *
 * Only a record whose trace was kept gets one. Where data enters (the gateway's requests, a
 * replay) the sampler decides, and the records of a trace it did not keep carry no trace context
 * at all: a stage neither starts a trace nor pays for one it will not record (bench runtime
 * --tracing: a span and a propagated header for each unsampled record cost every hop about 10 µs
 * a row, 12% of the real pipeline's CPU). A record with an unsampled context (a caller's own)
 * passes it on unchanged. A replay (`link`) starts a trace of its own per record, linked to the
 * original one: new work on old data, not a continuation of the request that sent it.
 * Undefined when tracing is off or the record is not traced: nothing is created.
 */
export function startRecordSpan(
  record: TracedRecord,
  consumer: { group: string; name: string; link?: boolean },
): RecordSpan | undefined {
  if (!tracingEnabled()) return undefined;
  if (!consumer.link && !sampledParent(record.headers[TRACE_HEADERS.parent])) return undefined;
  const parent = contextOfHeaders(record.headers);
  const name = `process ${record.topic}`;
  const kind = SpanKind.CONSUMER;
  let span: Span;
  let spanContext: Context;
  if (consumer.link) {
    span = linkedRootSpan(name, kind, parent);
    spanContext = trace.setSpan(ROOT_CONTEXT, span);
  } else {
    span = tracer().startSpan(name, { kind }, parent);
    spanContext = trace.setSpan(parent, span);
  }
  // A replay's sampler may not keep it: then it is not traced either.
  if (!span.isRecording()) return undefined;
  span.setAttributes({
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': record.topic,
    'messaging.destination.partition.id': String(record.partition),
    'messaging.kafka.offset': Number(record.offset),
    'messaging.consumer.group.name': consumer.group,
    'emotion_stream.stage': consumer.name,
  });
  return { span, context: spanContext };
}

/**
 * True for a W3C traceparent of version 00 whose sampled flag is set (55 characters, flags
 * last); read from the string, without building a context (the propagator checks it fully).
 */
function sampledParent(traceparent: string | undefined): boolean {
  if (traceparent?.length !== 55 || !traceparent.startsWith('00-')) return false;
  const flags = Number.parseInt(traceparent.slice(53), 16);
  return !Number.isNaN(flags) && (flags & 1) === 1;
}

/**
 * The trace headers of a record produced from an input: its `process` span's context when
 * tracing is on, else the input's own trace headers passed on unchanged.
 */
export function outputTraceHeaders(
  inputHeaders: Readonly<Record<string, string | undefined>>,
  span: RecordSpan | undefined,
): Record<string, string> {
  return span ? headersOfContext(span.context) : traceHeadersOf(inputHeaders);
}

/** A record span's ids as log fields (OpenTelemetry's log correlation names); none when not recorded. */
export function traceLogFields(span: RecordSpan | undefined): { trace_id?: string; span_id?: string } {
  return spanLogFields(span?.span);
}

/** Marks a record's span failed (a dead letter, a batch not committed); it is ended as usual. */
export function failRecordSpan(span: RecordSpan | undefined, error: Error): void {
  if (!span) return;
  span.span.recordException(error);
  span.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/** Ends the records' spans, failed with `error` when given. */
export function endRecordSpans(spans: readonly RecordSpan[], error?: Error): void {
  for (const span of spans) {
    if (error) failRecordSpan(span, error);
    span.span.end();
  }
}

/** The context work on a record is traced in, while it is handled; kept beside the record, not on it. */
const workContexts = new WeakMap<object, Context>();

/** Makes `record`'s span the parent of the work traceWork records on it. */
export function bindRecordSpan(record: object, span: RecordSpan | undefined): void {
  if (span) workContexts.set(record, span.context);
}

/**
 * Runs work done for several records at once (an engine's batch call, the Whisper worker's
 * request) and records it as a child span of each record's span, all with the call's own start
 * and end: one call serves the batch, so each record's share of it is the whole call
 * (`emotion_stream.batch.records` says how many shared it). Work traced inside `work` nests
 * under these spans. Just runs `work` when tracing is off or no record is traced.
 */
export async function traceWork<R>(
  records: readonly object[],
  name: string,
  work: () => Promise<R>,
  attributes: Attributes = {},
): Promise<R> {
  if (!tracingEnabled()) return work();
  const traced = records.flatMap((record) => {
    const parent = workContexts.get(record);
    return parent ? [{ record, parent }] : [];
  });
  if (traced.length === 0) return work();
  const spans = traced.map(({ record, parent }) => {
    const span = tracer().startSpan(
      name,
      { attributes: { ...attributes, 'emotion_stream.batch.records': records.length } },
      parent,
    );
    workContexts.set(record, trace.setSpan(parent, span));
    return span;
  });
  try {
    return await work();
  } catch (error) {
    for (const span of spans) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    }
    throw error;
  } finally {
    for (const span of spans) span.end();
    for (const { record, parent } of traced) workContexts.set(record, parent);
  }
}

/** A span that starts a trace of its own, linked to the span of `origin` (if it has one). */
function linkedRootSpan(name: string, kind: SpanKind, origin: Context): Span {
  const linked = trace.getSpanContext(origin);
  return tracer().startSpan(
    name,
    { kind, root: true, links: linked ? [{ context: linked }] : [] },
    ROOT_CONTEXT,
  );
}

/**
 * The trace headers of each record of a batch sent at once (a CSV's rows), one call a record.
 * When tracing is on, each record opens a trace of its own with a `create <topic>` PRODUCER span
 * linked to the batch's context (the upload request's span, the CLI command's), kept or not by the
 * sampler record by record: OpenTelemetry's messaging conventions give each message of a batch its
 * own creation context, and a traced 100,000-row upload would otherwise be one trace of 900,000
 * spans. Off, the batch's own trace headers pass on unchanged, as for any record.
 */
export function recordTraces(
  topic: string,
  batchHeaders: Readonly<Record<string, string | undefined>>,
): () => Record<string, string> {
  if (!tracingEnabled()) {
    const unchanged = traceHeadersOf(batchHeaders);
    return () => unchanged;
  }
  // Read once for the batch, not once a record.
  const origin = contextOfHeaders(batchHeaders);
  return () => {
    const span = linkedRootSpan(`create ${topic}`, SpanKind.PRODUCER, origin);
    if (!span.isRecording()) return {};
    span.setAttributes({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'create',
      'messaging.operation.name': 'create',
      'messaging.destination.name': topic,
    });
    span.end();
    return headersOfContext(trace.setSpan(ROOT_CONTEXT, span));
  };
}

/**
 * A span for one run of a command that sends data into the pipeline (`produce csv`, `produce
 * audio`): what the gateway's request span is for an upload. `headers` carry its context on to
 * what the command sends (none when tracing is off or the sampler did not keep it); `end` closes
 * it, failed with `error` when given (a second call does nothing).
 */
export function startCommandSpan(
  name: string,
  attributes: Attributes = {},
): { headers: Record<string, string>; end: (error?: Error) => void } {
  if (!tracingEnabled()) return { headers: {}, end: () => undefined };
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes }, ROOT_CONTEXT);
  if (!span.isRecording()) {
    span.end();
    return { headers: {}, end: () => undefined };
  }
  let ended = false;
  return {
    headers: headersOfContext(trace.setSpan(ROOT_CONTEXT, span)),
    end: (error) => {
      if (ended) return;
      ended = true;
      if (error) {
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      }
      span.end();
    },
  };
}
