import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../runtime/errors.js';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import type { ExactlyOnceStage } from '../../runtime/stage/exactly-once-stage.js';
import { ChangelogState } from '../../runtime/stage/keyed-state.js';
import type { StageHandler } from '../../runtime/stage/types.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';
import { UppercaseHandler } from '../fixtures/uppercase-handler.js';
import { type TestStack, testStack } from '../support/stack.js';
import { counterValue, inProcessStage, stageTopics } from '../support/stage.js';
import { produceValues, readTopic, textSegment, waitForGroupCaughtUp } from '../support/topics.js';

const stages: ExactlyOnceStage<TextSegment, TextSegment>[] = [];
afterEach(async () => {
  await Promise.all(stages.splice(0).map((stage) => stage.stop()));
});

/** Input, output and dead-letter topics of a fresh prefix, and `count` records on the input. */
async function topicsWithInput(name: string, partitions: number, count: number, text: (i: number) => string) {
  const stack = testStack();
  const { input, output, groupId } = await stageTopics(stack, name, partitions);
  const ids = Array.from({ length: count }, (_, i) => `row-${i}`);
  await produceValues(
    stack.kafka,
    stack.registry,
    input,
    avroSchemas.TextSegment,
    ids.map((id, i) => ({ key: id, value: textSegment(id, text(i), i) })),
  );
  return { stack, input, output, groupId, ids };
}

/** Once the group has committed its whole input: the output topic's records and their decoded values. */
async function outputsOnceCaughtUp(stack: TestStack, groupId: string, input: string, output: string) {
  const admin = stack.kafka.admin();
  await admin.connect();
  await waitForGroupCaughtUp(admin, groupId, input, 120_000);
  await admin.disconnect();
  const records = await readTopic(stack.kafka, output);
  const decoder = new AvroDecoder<TextSegment>(stack.registry, avroSchemas.TextSegment);
  const values = await Promise.all(records.map((r) => decoder.decode(r.value)));
  return { records, values };
}

/**
 * Numbers each record within its stream (the record key), keeping each stream's count in keyed
 * state; the first batch it sees fails once after its puts, as an engine that went away would.
 */
class StreamCounter implements StageHandler<TextSegment, TextSegment> {
  private failedOnce = false;
  constructor(
    private readonly output: string,
    private readonly counts: ChangelogState<number>,
  ) {}

  async process(records: Parameters<StageHandler<TextSegment, TextSegment>['process']>[0]) {
    const outcomes = records.map((record) => {
      const stream = record.key!;
      const count = (this.counts.get(record.partition, stream) ?? 0) + 1;
      this.counts.put(record.partition, stream, count);
      return {
        outputs: [
          { topic: this.output, key: stream, value: { ...record.value, text: `${stream} ${count}` } },
        ],
      };
    });
    if (!this.failedOnce) {
      this.failedOnce = true;
      throw new RetryableError('the engine went away mid-batch');
    }
    return outcomes;
  }
}

describe('ExactlyOnceStage', () => {
  it("keeps a handler's keyed state in a changelog: a retried batch counts once, a restarted stage goes on where the last left off", async () => {
    const streams = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const { stack, input, output, groupId } = await topicsWithInput('keyed-state', 3, 0, () => '');
    const produce = (from: number, count: number) =>
      produceValues(
        stack.kafka,
        stack.registry,
        input,
        avroSchemas.TextSegment,
        Array.from({ length: count }, (_, i) => {
          const n = from + i;
          return { key: streams[n % streams.length]!, value: textSegment(`row-${n}`, 'x', n) };
        }),
      );
    const run = async () => {
      const counts = new ChangelogState<number>('counts');
      const { stage } = inProcessStage(stack, {
        input,
        output,
        groupId,
        handler: new StreamCounter(output, counts),
        state: [counts as ChangelogState<unknown>],
      });
      stages.push(stage);
      await stage.start();
      return stage;
    };
    await produce(0, 100);
    const first = await run();
    await outputsOnceCaughtUp(stack, groupId, input, output);
    await first.stop();
    stages.splice(stages.indexOf(first), 1);
    // A new instance (nothing in memory) restores the counts from the changelog.
    await produce(100, 150);
    await run();
    const { values } = await outputsOnceCaughtUp(stack, groupId, input, output);
    expect(values).toHaveLength(250);
    for (const stream of streams) {
      const numbers = values
        .filter((v) => v.text.startsWith(`${stream} `))
        .map((v) => Number(v.text.split(' ')[1]));
      // Per stream, in order: 1, 2, … 50: no count lost, none taken twice, none restarted at 1.
      expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    }
    const changelog = await readTopic(stack.kafka, `${groupId}-counts-changelog`);
    expect(new Set(changelog.map((record) => record.key?.toString()))).toEqual(new Set(streams));
  });

  it('turns 10,000 records on 6 partitions into exactly 10,000 outputs', async () => {
    const { stack, input, output, groupId, ids } = await topicsWithInput(
      'eos',
      6,
      10_000,
      (i) => `hello number ${i}`,
    );

    // Two instances in one group: partitions are shared, each with its own transactional producer.
    const registries: Registry[] = [];
    for (let i = 0; i < 2; i++) {
      const { stage, metrics } = inProcessStage(stack, {
        input,
        output,
        groupId,
        handler: new UppercaseHandler(output),
      });
      stages.push(stage);
      registries.push(metrics);
      await stage.start();
    }
    const { records, values } = await outputsOnceCaughtUp(stack, groupId, input, output);
    const byId = new Map<string, number>();
    for (const value of values) byId.set(value.id, (byId.get(value.id) ?? 0) + 1);

    expect(records).toHaveLength(10_000);
    expect(byId.size).toBe(10_000);
    expect([...byId.values()].every((count) => count === 1)).toBe(true);
    expect(ids.every((id) => byId.has(id))).toBe(true);
    const sample = values.find((v) => v.id === 'row-42')!;
    expect(sample.text).toBe('HELLO NUMBER 42');
    // The stage stamped its hop onto the trace, after the producer's.
    expect(sample.trace.map((t) => t.stage)).toEqual(['test-producer', 'uppercase']);
    // Records kept their key, so per-key order survives the stage.
    expect(records.find((r) => r.key === 'row-42')).toBeDefined();
    expect(await readTopic(stack.kafka, `${input}.dlq`)).toHaveLength(0);

    const total = async (name: string) =>
      (await Promise.all(registries.map((registry) => counterValue(registry, name)))).reduce(
        (a, b) => a + b,
        0,
      );
    expect(await total('stage_records_in_total')).toBe(10_000);
    expect(await total('stage_records_out_total')).toBe(10_000);
    expect(await total('stage_dlq_records_total')).toBe(0);
  });

  it('commits a batch whose outputs are larger than the broker takes in one request, in several requests of one transaction', async () => {
    const { stack, input, output, groupId, ids } = await topicsWithInput(
      'eos-big',
      1,
      1000,
      (i) => `line ${i}`,
    );
    // Each small input becomes a 4 KB output that does not compress: the transactions grow to
    // several hundred records (64, 256, then the rest), 1-3 MB on one partition, above the broker's
    // message.max.bytes. Sent as one record batch, such a transaction is refused (MESSAGE_TOO_LARGE)
    // on every retry, and the stage stalls.
    const padded: StageHandler<TextSegment, TextSegment> = {
      process: async (records) =>
        records.map((record) => ({
          outputs: [
            {
              topic: output,
              key: record.key,
              value: { ...record.value, text: randomBytes(3072).toString('base64') },
            },
          ],
        })),
    };
    const { stage, metrics } = inProcessStage(stack, {
      input,
      output,
      groupId,
      handler: padded,
      // No time bound: the transactions grow as fast as the sizer allows.
      settings: { maxBatchRecords: 1000, commitIntervalMs: 600_000 },
    });
    stages.push(stage);
    await stage.start();
    const { values } = await outputsOnceCaughtUp(stack, groupId, input, output);
    expect(values.map((v) => v.id)).toEqual(ids);
    expect(values.every((v) => v.text.length === 4096)).toBe(true);
    expect(await counterValue(metrics, 'stage_retries_total')).toBe(0);
    expect(
      await counterValue(metrics, 'stage_transactions_total', { outcome: 'committed' }),
    ).toBeLessThanOrEqual(4);
    expect(await readTopic(stack.kafka, `${input}.dlq`)).toHaveLength(0);
  });
});
