import { type Span, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { destination, pino } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

/**
 * A span's ids as log fields (OpenTelemetry's log correlation field names), so a log line leads to
 * its trace and a span to its lines; none for a span that is not recorded.
 */
export function spanLogFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  if (!span?.isRecording()) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The fields of the span a line is logged in. */
const traceFields = () => spanLogFields(trace.getActiveSpan());

/**
 * The one logger of a process; everything else receives it (or a child) as a parameter.
 * JSON lines on stderr keep stdout free for the output of CLI commands; written synchronously so
 * the last lines before a crash are not lost.
 */
export function createLogger(options: { level: LogLevel; name?: string }): Logger {
  return pino(
    { level: options.level, name: options.name ?? 'emotion-stream', mixin: traceFields },
    destination({ dest: 2, sync: true }),
  );
}

/** A logger that drops everything, for code paths where nothing should be printed. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
