import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../runtime/errors.js';
import { chainHandlers } from '../../runtime/stage/chained-handlers.js';
import { type InputRecord, outputs, rejected, type StageHandler } from '../../runtime/stage/types.js';

/** Fake stages over strings: what the fused text stage chains, without Kafka or engines. */
const input = (value: string, offset: number): InputRecord<unknown> => ({
  topic: 'raw',
  partition: 2,
  offset: String(offset),
  key: `k${offset}`,
  value,
  timestamp: 1000 + offset,
  headers: { traceparent: `t${offset}` },
});

/** Writes the value, upper-cased, to `topic`; rejects values containing "bad". */
function step(topic: string, seen: InputRecord<unknown>[][] = []): StageHandler<unknown, unknown> {
  return {
    async process(records) {
      seen.push(records);
      return records.map((record) =>
        String(record.value).includes('bad')
          ? rejected(new Error(`${topic} refused ${String(record.value)}`))
          : outputs({ topic, key: record.key, value: `${String(record.value)}>${topic}` }),
      );
    },
  };
}

describe('chainHandlers (the fused text stage)', () => {
  it('runs each input through every step and writes every step’s outputs, in input order', async () => {
    const seen: InputRecord<unknown>[][] = [];
    const chain = chainHandlers([
      { handler: step('corrected'), feeds: 'corrected' },
      { handler: step('translated', seen), feeds: 'translated' },
      { handler: step('emotions') },
    ]);
    const outcomes = await chain.process([input('a', 1), input('b', 2)]);
    expect(outcomes).toEqual([
      {
        outputs: [
          { topic: 'corrected', key: 'k1', value: 'a>corrected' },
          { topic: 'translated', key: 'k1', value: 'a>corrected>translated' },
          { topic: 'emotions', key: 'k1', value: 'a>corrected>translated>emotions' },
        ],
      },
      {
        outputs: [
          { topic: 'corrected', key: 'k2', value: 'b>corrected' },
          { topic: 'translated', key: 'k2', value: 'b>corrected>translated' },
          { topic: 'emotions', key: 'k2', value: 'b>corrected>translated>emotions' },
        ],
      },
    ]);
    // A later step sees the record as the earlier step wrote it, at the input's position.
    expect(seen[0]![0]).toEqual({
      topic: 'corrected',
      partition: 2,
      offset: '1',
      key: 'k1',
      value: 'a>corrected',
      timestamp: 1001,
      headers: { traceparent: 't1' },
    });
  });

  it('rejects the input when a later step rejects what it became, and writes nothing of it', async () => {
    const translate: StageHandler<unknown, unknown> = {
      async process(records) {
        return records.map((record) =>
          String(record.value).startsWith('x')
            ? rejected(new Error('no translation for x'))
            : outputs({ topic: 'translated', key: record.key, value: record.value }),
        );
      },
    };
    const chain = chainHandlers([
      { handler: step('corrected'), feeds: 'corrected' },
      { handler: translate, feeds: 'translated' },
      { handler: step('emotions') },
    ]);
    const outcomes = await chain.process([input('x1', 1), input('bad', 2), input('ok', 3)]);
    expect(outcomes[0]).toEqual({ rejected: new Error('no translation for x') });
    expect(outcomes[1]).toEqual({ rejected: new Error('corrected refused bad') });
    expect('outputs' in outcomes[2]! && outcomes[2].outputs.map((o) => o.topic)).toEqual([
      'corrected',
      'translated',
      'emotions',
    ]);
  });

  it('passes on an input that a step filters out (no outputs) and lets a retryable failure propagate', async () => {
    const drop: StageHandler<unknown, unknown> = { process: async (records) => records.map(() => outputs()) };
    const chain = chainHandlers([{ handler: drop, feeds: 'corrected' }, { handler: step('emotions') }]);
    expect(await chain.process([input('a', 1)])).toEqual([{ outputs: [] }]);

    const down: StageHandler<unknown, unknown> = {
      process: async () => {
        throw new RetryableError('translation service unavailable');
      },
    };
    const failing = chainHandlers([{ handler: step('corrected'), feeds: 'corrected' }, { handler: down }]);
    await expect(failing.process([input('a', 1)])).rejects.toBeInstanceOf(RetryableError);
  });

  it('refuses a step that answers for the wrong number of records', async () => {
    const short: StageHandler<unknown, unknown> = { process: async () => [] };
    await expect(chainHandlers([{ handler: short }]).process([input('a', 1)])).rejects.toThrow(
      /returned 0 outcomes for 1 records/,
    );
  });
});
