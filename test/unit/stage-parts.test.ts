import { describe, expect, it } from 'vitest';
import { Backoff } from '../../runtime/backoff.js';
import { isRetryable, RetryableError, UnprocessableRecordError } from '../../runtime/errors.js';
import { DLQ_HEADERS, deadLetterMessage, headersAsStrings } from '../../runtime/kafka/dead-letter.js';
import type { ConsumedRecord } from '../../runtime/kafka/records.js';
import { ChunkSizer } from '../../runtime/stage/chunk-sizer.js';
import { encodeStamped, traceOrigin } from '../../runtime/stage/trace.js';

describe('Backoff', () => {
  it('doubles up to the maximum, with bounded jitter, and resets', () => {
    const backoff = new Backoff(100, 1000, () => 0.5);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
    const jittery = new Backoff(1000, 10_000, () => 0);
    expect(jittery.next()).toBe(800);
  });
});

describe('isRetryable', () => {
  it('tells "not now" from "never"', () => {
    expect(isRetryable(new RetryableError('engine down'))).toBe(true);
    expect(isRetryable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(
      isRetryable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) })),
    ).toBe(true);
    expect(isRetryable(Object.assign(new Error('kafka'), { retriable: true }))).toBe(true);
    expect(isRetryable(new UnprocessableRecordError('bad bytes'))).toBe(false);
    expect(isRetryable(new TypeError('bug'))).toBe(false);
  });
});

describe('deadLetterMessage', () => {
  it('keeps the original key, value and headers and adds Connect-style error headers', () => {
    const original = {
      key: Buffer.from('k'),
      value: Buffer.from([1, 2, 3]),
      headers: { traceparent: Buffer.from('00-abc') },
      offset: '41',
      timestamp: '1700000000000',
    } as unknown as ConsumedRecord;
    const error = new UnprocessableRecordError('bad bytes');
    const message = deadLetterMessage(
      { stage: 'correct', instanceId: 'host-1', topic: 'segments.raw', partition: 4 },
      original,
      error,
      'VALUE_CONVERTER',
    );
    expect(message.key).toEqual(Buffer.from('k'));
    expect(message.value).toEqual(Buffer.from([1, 2, 3]));
    const headers = headersAsStrings(message.headers);
    expect(headers).toMatchObject({
      traceparent: '00-abc',
      [DLQ_HEADERS.topic]: 'segments.raw',
      [DLQ_HEADERS.partition]: '4',
      [DLQ_HEADERS.offset]: '41',
      [DLQ_HEADERS.stageName]: 'correct',
      [DLQ_HEADERS.taskId]: 'host-1',
      [DLQ_HEADERS.phase]: 'VALUE_CONVERTER',
      [DLQ_HEADERS.errorClass]: 'UnprocessableRecordError',
      [DLQ_HEADERS.message]: 'bad bytes',
    });
    expect(headers[DLQ_HEADERS.stacktrace]).toContain('UnprocessableRecordError');
  });
});

describe('trace', () => {
  it('encodes a value with one more stamp, leaves the value as it was, and reads the origin from the first stamp', () => {
    const value = { text: 'shared by two outputs', trace: [{ stage: 'ingest', atMs: 1000 }] };
    const encoder = { encode: (v: typeof value) => Buffer.from(JSON.stringify(v.trace)) };
    const before = Date.now();
    const first = JSON.parse(encodeStamped(encoder, value, 'classify').toString());
    const second = JSON.parse(encodeStamped(encoder, value, 'classify').toString());
    expect(first).toEqual([
      { stage: 'ingest', atMs: 1000 },
      { stage: 'classify', atMs: expect.any(Number) },
    ]);
    expect(first[1].atMs).toBeGreaterThanOrEqual(before);
    expect(second).toHaveLength(2);
    expect(value.trace).toEqual([{ stage: 'ingest', atMs: 1000 }]);
    expect(traceOrigin(value)).toBe(1000);
    expect(traceOrigin({ text: 'no trace' })).toBeUndefined();
  });

  it('leaves the value as it was when its encoding fails', () => {
    const value = { trace: [{ stage: 'ingest', atMs: 1000 }] };
    const refusing = {
      encode: (): Buffer => {
        throw new Error('does not match the schema');
      },
    };
    expect(() => encodeStamped(refusing, value, 'classify')).toThrow('does not match the schema');
    expect(value.trace).toHaveLength(1);
  });

  it('encodes a value without a trace as it is', () => {
    const encoder = { encode: (v: object) => Buffer.from(JSON.stringify(v)) };
    expect(encodeStamped(encoder, { text: 'x' }, 'classify').toString()).toBe('{"text":"x"}');
  });
});

describe('ChunkSizer', () => {
  it('starts small, then sizes transactions to the commit interval, growing at most fourfold a step', () => {
    const sizer = new ChunkSizer(10_000, 500);
    expect(sizer.size).toBe(64);
    // A fast engine: 0.1 ms a record, so 5,000 fit in 500 ms; reached in steps of at most 4x.
    const sizes = [];
    for (let i = 0; i < 6; i++) {
      sizer.observe(sizer.size, sizer.size * 0.1);
      sizes.push(sizer.size);
    }
    expect(sizes).toEqual([256, 1024, 4096, 5000, 5000, 5000]);
  });

  it('keeps a slow engine to a few records a transaction, and never below one', () => {
    const sizer = new ChunkSizer(10_000, 500);
    sizer.observe(64, 64 * 200); // an LLM at 200 ms a record
    expect(sizer.size).toBe(2);
    sizer.observe(2, 2 * 2000); // slower still: one record a transaction
    expect(sizer.size).toBe(1);
  });

  it('never exceeds the record cap, and ignores empty or broken measurements', () => {
    const sizer = new ChunkSizer(100, 500, 1000);
    expect(sizer.size).toBe(100);
    sizer.observe(0, 10);
    sizer.observe(10, Number.NaN);
    expect(sizer.size).toBe(100);
    sizer.observe(100, 0);
    expect(sizer.size).toBe(100);
  });
});
