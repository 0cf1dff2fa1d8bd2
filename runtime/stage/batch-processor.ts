import { isRetryable, UnprocessableRecordError } from '../errors.js';
import { deadLetterMessage, type FailurePhase, headersAsStrings } from '../kafka/dead-letter.js';
import type { OutgoingRecord, PartitionRecord } from '../kafka/records.js';
import type { Logger } from '../logger.js';
import {
  bindRecordSpan,
  failRecordSpan,
  outputTraceHeaders,
  type RecordSpan,
  startRecordSpan,
  traceLogFields,
  traceWork,
} from '../tracing/record-spans.js';
import { tracingEnabled } from '../tracing/start-tracing.js';
import { inputRecordOf } from './input-record.js';
import { encodeStamped, traceOrigin } from './trace.js';
import type { InputRecord, Outcome, OutputRecord, StageHandler } from './types.js';

/**
 * Reads a batch's record values (the registry's Avro decoder): each one's value, or the
 * UnprocessableRecordError that says why it cannot be read; throws only when the whole batch must
 * wait (RetryableError: the registry unreachable).
 */
export interface ValueDecoder<T> {
  decodeAll(values: ReadonlyArray<Buffer | null>): Promise<Array<T | UnprocessableRecordError>>;
}

/** Writes a record value for one output topic (the registry's Avro encoder). */
export interface ValueEncoder<T> {
  encode(value: T): Buffer;
}

/** A record of the batch, read, or with the error that says why it could not be. */
type Decoded<In> =
  | { message: PartitionRecord; record: InputRecord<In> }
  | { message: PartitionRecord; error: Error };

/** What to do when the handler throws for a batch (issue 20: the stage's failure policy, in one place). */
export type FailureAction = 'retry' | 'split' | 'dead-letter';

/**
 * A dependency that is down (RetryableError, an unreachable registry) leaves the batch to be
 * retried whole later; anything else is narrowed down by splitting the batch into single records,
 * and a single record that still fails is dead-lettered.
 */
export function failurePolicy(error: unknown, records: number): FailureAction {
  if (isRetryable(error)) return 'retry';
  return records > 1 ? 'split' : 'dead-letter';
}

export interface DeadLettered {
  partition: number;
  offset: string;
  error: Error;
  phase: FailurePhase;
  /** The record's trace and span ids, for the log line (tracing on). */
  trace: { trace_id?: string; span_id?: string };
}

/** A batch ready to commit: every message per topic (dead letters under the dead-letter topic). */
export interface ProcessedBatch {
  messagesByTopic: Map<string, OutgoingRecord[]>;
  outputs: Array<{ topic: string; originMs: number | undefined }>;
  deadLettered: DeadLettered[];
  /** Each record's `process` span (tracing on), to be ended when the batch's transaction is. */
  spans: RecordSpan[];
}

/**
 * The stage's work on one batch of one partition, without Kafka (Kafka Streams' StreamTask to the
 * stage's RecordCollector): decode → handle → split a failing batch → encode, each record's
 * outputs all or none, and every record that cannot be processed turned into a dead letter with
 * Kafka Connect's headers. Throws only when the whole batch must wait (failurePolicy: retry).
 */
export class BatchProcessor<In, Out> {
  constructor(
    private readonly options: {
      name: string;
      instanceId: string;
      deadLetterTopic: string;
      decoder: ValueDecoder<In>;
      /** Per declared output topic; filled once the stage has registered its schemas. */
      encoders: ReadonlyMap<string, ValueEncoder<Out>>;
      handler: StageHandler<In, Out>;
      log: Logger;
      /** The consumer group, for the records' spans. */
      groupId?: string;
      /** A replay: each record's span starts a trace linked to the record's own, not a child of it. */
      linkTraces?: boolean;
    },
  ) {}

  /** One batch of records of the input topic, from one partition or several. */
  async process(topic: string, chunk: readonly PartitionRecord[]): Promise<ProcessedBatch> {
    const { name: stage, instanceId, groupId = stage, linkTraces } = this.options;
    const values = await this.options.decoder.decodeAll(chunk.map((message) => message.value));
    const decoded = chunk.map((message, i): Decoded<In> => {
      const value = values[i];
      return value instanceof UnprocessableRecordError
        ? { message, error: value }
        : { message, record: inputRecordOf(topic, message.partition, message, value as In) };
    });
    // After decoding, from the headers it already read (a record that did not decode: its own).
    const spans = tracingEnabled()
      ? decoded.map((entry) =>
          startRecordSpan(
            {
              topic,
              partition: entry.message.partition,
              offset: entry.message.offset,
              headers: 'record' in entry ? entry.record.headers : headersAsStrings(entry.message.headers),
            },
            { group: groupId, name: stage, ...(linkTraces ? { link: true } : {}) },
          ),
        )
      : undefined;
    const records = decoded.flatMap((entry, i) => {
      if (!('record' in entry)) return [];
      bindRecordSpan(entry.record, spans?.[i]);
      return [entry.record];
    });
    // The engine's call for the batch, a child span of each record's (named after the stage).
    const outcomes = records.length > 0 ? await traceWork(records, stage, () => this.handle(records)) : [];

    const deadLetters: OutgoingRecord[] = [];
    const deadLettered: DeadLettered[] = [];
    const encoded: Array<{ topic: string; message: OutgoingRecord; originMs: number | undefined }> = [];
    const dead = (message: PartitionRecord, error: Error, phase: FailurePhase, index: number) => {
      failRecordSpan(spans?.[index], error);
      const context = { stage, instanceId, topic, partition: message.partition };
      deadLetters.push(deadLetterMessage(context, message, error, phase));
      deadLettered.push({
        partition: message.partition,
        offset: message.offset,
        error,
        phase,
        trace: traceLogFields(spans?.[index]),
      });
    };
    let outcomeIndex = 0;
    for (const [index, entry] of decoded.entries()) {
      if ('error' in entry) {
        dead(entry.message, entry.error, 'VALUE_CONVERTER', index);
        continue;
      }
      const outcome = outcomes[outcomeIndex++]!;
      if ('rejected' in outcome) {
        dead(entry.message, outcome.rejected, 'TRANSFORMATION', index);
        continue;
      }
      try {
        // All of a record's outputs, or none of them.
        // A replayed record not traced again carries no trace on: its original trace is over.
        const span = spans?.[index];
        const headers = linkTraces && !span ? {} : outputTraceHeaders(entry.record.headers, span);
        encoded.push(...outcome.outputs.map((output) => this.encodeOutput(output, headers)));
      } catch (error) {
        // An output the schema refuses is a handler bug for this record: dead-letter the input.
        dead(entry.message, error as Error, 'TRANSFORMATION', index);
      }
    }

    const messagesByTopic = new Map<string, OutgoingRecord[]>();
    for (const output of encoded) {
      const list = messagesByTopic.get(output.topic) ?? [];
      list.push(output.message);
      messagesByTopic.set(output.topic, list);
    }
    if (deadLetters.length > 0) messagesByTopic.set(this.options.deadLetterTopic, deadLetters);
    return {
      messagesByTopic,
      outputs: encoded.map(({ topic: outputTopic, originMs }) => ({ topic: outputTopic, originMs })),
      deadLettered,
      spans: spans?.filter((span) => span !== undefined) ?? [],
    };
  }

  /** The handler over the records, split down to single records as failurePolicy says. */
  private async handle(records: InputRecord<In>[]): Promise<Outcome<Out>[]> {
    try {
      const outcomes = await this.options.handler.process(records);
      // A handler that answers for the wrong number of records has a bug: a failure like any other.
      if (!Array.isArray(outcomes) || outcomes.length !== records.length) {
        throw new Error(`handler returned ${outcomes?.length} outcomes for ${records.length} records`);
      }
      return outcomes;
    } catch (error) {
      switch (failurePolicy(error, records.length)) {
        case 'retry':
          throw error;
        case 'dead-letter':
          return [{ rejected: error instanceof Error ? error : new Error(String(error)) }];
        case 'split': {
          this.options.log.warn(
            { err: error, records: records.length },
            'batch failed; retrying its records one by one',
          );
          const split: Outcome<Out>[] = [];
          for (const record of records) split.push(...(await this.handle([record])));
          return split;
        }
      }
    }
  }

  /** An output of an input record: its value encoded, with the trace headers of the input's hop. */
  private encodeOutput(output: OutputRecord<Out>, traceHeaders: Record<string, string>) {
    const encoder = this.options.encoders.get(output.topic);
    if (!encoder) {
      throw new UnprocessableRecordError(`handler produced to undeclared topic '${output.topic}'`);
    }
    return {
      topic: output.topic,
      message: {
        key: output.key,
        value: encodeStamped(encoder, output.value, this.options.name),
        // Read-only from here on: the trace headers are shared by a record's outputs.
        headers: output.headers ? { ...traceHeaders, ...output.headers } : traceHeaders,
      },
      originMs: traceOrigin(output.value),
    };
  }
}
