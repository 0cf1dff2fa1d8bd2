import { describe, expect, it } from 'vitest';
import { RetryableError, UnprocessableRecordError } from '../../runtime/errors.js';
import { DLQ_HEADERS } from '../../runtime/kafka/dead-letter.js';
import type { PartitionRecord } from '../../runtime/kafka/records.js';
import { createLogger } from '../../runtime/logger.js';
import {
  BatchProcessor,
  failurePolicy,
  type ValueDecoder,
  type ValueEncoder,
} from '../../runtime/stage/batch-processor.js';
import { type InputRecord, outputs, rejected, type StageHandler } from '../../runtime/stage/types.js';

/**
 * The stage's batch work without Kafka (issue 20): decode → handle → split → encode, with a JSON
 * decoder and encoder standing in for the registry's Avro ones.
 */
interface Row {
  text: string;
}

const decoder: ValueDecoder<Row> = {
  async decodeAll(values) {
    return values.map((value) => {
      const text = value?.toString() ?? '';
      if (!text.startsWith('{')) return new UnprocessableRecordError(`not a record: ${text}`);
      return JSON.parse(text) as Row;
    });
  },
};
const json: ValueEncoder<Row> = { encode: (value) => Buffer.from(JSON.stringify(value)) };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function message(offset: number, value: string, partition = 0): PartitionRecord {
  return {
    partition,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(value),
    offset: String(offset),
    timestamp: '1700000000000',
    headers: { traceparent: TRACEPARENT },
  };
}

function processor(handler: StageHandler<Row, Row>) {
  return new BatchProcessor<Row, Row>({
    name: 'upper',
    instanceId: 'test-1',
    deadLetterTopic: 'in.dlq',
    decoder,
    encoders: new Map([['out', json]]),
    handler,
    log: createLogger({ level: 'silent' }),
  });
}

/** Upper-cases each text; throws for the whole batch when one text is "poison". */
function upper(calls: number[] = []): StageHandler<Row, Row> {
  return {
    async process(records: InputRecord<Row>[]) {
      calls.push(records.length);
      if (records.some((r) => r.value.text === 'poison')) throw new TypeError('cannot upper-case poison');
      return records.map((r) =>
        outputs({ topic: 'out', key: r.key, value: { text: r.value.text.toUpperCase() } }),
      );
    },
  };
}

const texts = (messages: { value: Buffer | string | null }[] | undefined) =>
  (messages ?? []).map((m) => JSON.parse(String(m.value)).text);

describe('BatchProcessor', () => {
  it('turns each input into its outputs, in input order, carrying the trace context on', async () => {
    const batch = await processor(upper()).process('in', [
      message(10, '{"text":"a"}', 3),
      message(11, '{"text":"b"}', 3),
    ]);
    expect(texts(batch.messagesByTopic.get('out'))).toEqual(['A', 'B']);
    const headers = batch.messagesByTopic.get('out')![0]!.headers as Record<string, string>;
    // Tracing off (no OTLP endpoint): the input's trace context passes on unchanged, no span made.
    expect(headers.traceparent).toBe(TRACEPARENT);
    expect(batch.spans).toEqual([]);
    expect(batch.deadLettered).toEqual([]);
    expect(batch.messagesByTopic.has('in.dlq')).toBe(false);
  });

  it('dead-letters a record that does not decode with Connect headers, and processes the rest', async () => {
    const batch = await processor(upper()).process('in', [
      message(10, 'garbage', 3),
      message(11, '{"text":"b"}', 3),
    ]);
    expect(texts(batch.messagesByTopic.get('out'))).toEqual(['B']);
    const [letter] = batch.messagesByTopic.get('in.dlq')!;
    expect(String(letter!.value)).toBe('garbage');
    expect(letter!.headers).toMatchObject({
      [DLQ_HEADERS.topic]: 'in',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '10',
      [DLQ_HEADERS.stageName]: 'upper',
      [DLQ_HEADERS.phase]: 'VALUE_CONVERTER',
      [DLQ_HEADERS.errorClass]: 'UnprocessableRecordError',
    });
  });

  it('splits a batch the handler throws on down to single records and dead-letters only the one that fails alone', async () => {
    const calls: number[] = [];
    const batch = await processor(upper(calls)).process('in', [
      message(1, '{"text":"a"}'),
      message(2, '{"text":"poison"}'),
      message(3, '{"text":"c"}'),
    ]);
    expect(calls).toEqual([3, 1, 1, 1]);
    expect(texts(batch.messagesByTopic.get('out'))).toEqual(['A', 'C']);
    expect(batch.deadLettered.map((d) => [d.offset, d.phase, d.error.name])).toEqual([
      ['2', 'TRANSFORMATION', 'TypeError'],
    ]);
  });

  it('dead-letters what the handler rejects and an output to a topic the stage did not declare', async () => {
    const handler: StageHandler<Row, Row> = {
      async process(records) {
        return records.map((r) =>
          r.value.text === 'no'
            ? rejected(new Error('refused'))
            : outputs({ topic: r.value.text === 'elsewhere' ? 'other' : 'out', key: r.key, value: r.value }),
        );
      },
    };
    const batch = await processor(handler).process('in', [
      message(1, '{"text":"no"}'),
      message(2, '{"text":"elsewhere"}'),
      message(3, '{"text":"ok"}'),
    ]);
    expect(texts(batch.messagesByTopic.get('out'))).toEqual(['ok']);
    expect(batch.deadLettered.map((d) => [d.offset, d.error.message])).toEqual([
      ['1', 'refused'],
      ['2', "handler produced to undeclared topic 'other'"],
    ]);
  });

  it('lets a retryable failure through whole: the batch waits, nothing is dead-lettered', async () => {
    const down: StageHandler<Row, Row> = {
      process: async () => {
        throw new RetryableError('engine unavailable');
      },
    };
    await expect(processor(down).process('in', [message(1, '{"text":"a"}')])).rejects.toBeInstanceOf(
      RetryableError,
    );
  });

  it('has one failure policy: retry what is down, split a batch, dead-letter a single record', () => {
    expect(failurePolicy(new RetryableError('down'), 5)).toBe('retry');
    expect(failurePolicy(new RetryableError('down'), 1)).toBe('retry');
    expect(failurePolicy(new Error('bug'), 5)).toBe('split');
    expect(failurePolicy(new Error('bug'), 1)).toBe('dead-letter');
  });
});
