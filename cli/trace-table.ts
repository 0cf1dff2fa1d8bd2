/** A span as Jaeger's query API returns it (`GET /api/traces/{traceId}`). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: Array<{ refType: string; traceID: string; spanID: string }>;
  tags?: Array<{ key: string; value: string | number | boolean }>;
  processID: string;
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** One line of a trace's table: a span, how deep it sits, and when it ran relative to the trace. */
export interface TraceRow {
  depth: number;
  service: string;
  operation: string;
  startMs: number;
  durationMs: number;
  /**
   * For a hop (a `process` span): how long its record waited in Kafka after the hop before it
   * ended (a stage's transaction commits at its end, so its outputs are readable from then on).
   */
  waitedMs: number | undefined;
  detail: string;
}

const tagOf = (span: JaegerSpan, key: string) => span.tags?.find((tag) => tag.key === key)?.value;
const parentOf = (span: JaegerSpan) =>
  span.references?.find((ref) => ref.refType === 'CHILD_OF' && ref.traceID === span.traceID)?.spanID;

function detailOf(span: JaegerSpan): string {
  const parts: string[] = [];
  const topic = tagOf(span, 'messaging.destination.name');
  if (topic !== undefined) {
    parts.push(
      `${topic}[${tagOf(span, 'messaging.destination.partition.id')}]@${tagOf(span, 'messaging.kafka.offset')}`,
    );
  }
  const status = tagOf(span, 'http.response.status_code');
  if (status !== undefined) parts.push(`HTTP ${status}`);
  const records = tagOf(span, 'emotion_stream.batch.records');
  if (records !== undefined) parts.push(`batch of ${records}`);
  const links = span.references?.filter((ref) => ref.refType === 'FOLLOWS_FROM') ?? [];
  for (const link of links) parts.push(`linked to ${link.traceID}/${link.spanID}`);
  if (tagOf(span, 'otel.status_code') === 'ERROR' || tagOf(span, 'error') === true) {
    parts.push(`ERROR ${tagOf(span, 'otel.status_description') ?? ''}`.trim());
  }
  return parts.join(', ');
}

/**
 * A trace's spans as a tree in time order: each span under its parent, children by start time,
 * with where it started and how long it took in milliseconds from the trace's first span. A span
 * whose parent is not in the trace (a caller's span, or one not yet exported) starts a tree.
 */
export function traceRows(trace: JaegerTrace): TraceRow[] {
  const byId = new Map(trace.spans.map((span) => [span.spanID, span]));
  const children = new Map<string | undefined, JaegerSpan[]>();
  for (const span of trace.spans) {
    const parent = parentOf(span);
    const key = parent !== undefined && byId.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const origin = Math.min(...trace.spans.map((span) => span.startTime));
  const rows: TraceRow[] = [];
  const visit = (span: JaegerSpan, depth: number) => {
    const parent = byId.get(parentOf(span) ?? '');
    const isHop = tagOf(span, 'messaging.operation.type') === 'process';
    rows.push({
      depth,
      service: trace.processes[span.processID]?.serviceName ?? '?',
      operation: span.operationName,
      startMs: (span.startTime - origin) / 1000,
      durationMs: span.duration / 1000,
      waitedMs:
        isHop && parent
          ? Math.max(0, (span.startTime - (parent.startTime + parent.duration)) / 1000)
          : undefined,
      detail: detailOf(span),
    });
    const next = [...(children.get(span.spanID) ?? [])].sort((a, b) => a.startTime - b.startTime);
    for (const child of next) visit(child, depth + 1);
  };
  for (const root of [...(children.get(undefined) ?? [])].sort((a, b) => a.startTime - b.startTime))
    visit(root, 0);
  return rows;
}

/** The rows as an aligned text table (milliseconds with one decimal). */
export function formatTraceTable(rows: readonly TraceRow[]): string {
  const ms = (value: number | undefined) => (value === undefined ? '' : value.toFixed(1));
  const table = [
    ['start ms', 'duration ms', 'waited ms', 'service', 'span', 'detail'],
    ...rows.map((row) => [
      ms(row.startMs),
      ms(row.durationMs),
      ms(row.waitedMs),
      row.service,
      `${'  '.repeat(row.depth)}${row.operation}`,
      row.detail,
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const numeric = new Set([0, 1, 2]);
  return table
    .map((line) =>
      line
        .map((cell, column) =>
          numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
