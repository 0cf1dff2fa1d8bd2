import type { ConsumedRecord, OutgoingRecord, RecordHeaders } from './records.js';

/**
 * Header names follow Kafka Connect's dead-letter queue, so existing tooling that reads Connect
 * DLQs can read ours.
 */
export const DLQ_HEADERS = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  stageName: '__connect.errors.connector.name',
  taskId: '__connect.errors.task.id',
  phase: '__connect.errors.stage',
  errorClass: '__connect.errors.class.name',
  message: '__connect.errors.exception.message',
  stacktrace: '__connect.errors.exception.stacktrace',
} as const;

/** Where in the stage the record failed, in Connect's vocabulary. */
export type FailurePhase = 'VALUE_CONVERTER' | 'TRANSFORMATION';

const MAX_STACK_CHARS = 8_000;

export interface DeadLetterContext {
  stage: string;
  instanceId: string;
  topic: string;
  partition: number;
}

/** The DLQ record for a failed input: original key, value and headers, plus the error headers. */
export function deadLetterMessage(
  context: DeadLetterContext,
  original: ConsumedRecord,
  error: Error,
  phase: FailurePhase,
): OutgoingRecord {
  const headers: RecordHeaders = {
    ...original.headers,
    [DLQ_HEADERS.topic]: context.topic,
    [DLQ_HEADERS.partition]: String(context.partition),
    [DLQ_HEADERS.offset]: original.offset,
    [DLQ_HEADERS.stageName]: context.stage,
    [DLQ_HEADERS.taskId]: context.instanceId,
    [DLQ_HEADERS.phase]: phase,
    [DLQ_HEADERS.errorClass]: error.name,
    [DLQ_HEADERS.message]: error.message,
    [DLQ_HEADERS.stacktrace]: (error.stack ?? '').slice(0, MAX_STACK_CHARS),
  };
  return { key: original.key, value: original.value, headers, timestamp: original.timestamp };
}

/** Flattens record headers (Buffer, string or arrays of them) into strings. */
export function headersAsStrings(headers: RecordHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) result[name] = last.toString();
  }
  return result;
}
