import type { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import type { ExactlyOnceStage } from '../../runtime/stage/exactly-once-stage.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';
import { UppercaseHandler } from '../fixtures/uppercase-handler.js';
import { testStack, uniquePrefix } from '../support/stack.js';
import { counterValue, inProcessStage } from '../support/stage.js';
import {
  createTopics,
  produceValues,
  readTopic,
  textSegment,
  waitForGroupCaughtUp,
} from '../support/topics.js';

const stages: ExactlyOnceStage<TextSegment, TextSegment>[] = [];
afterEach(async () => {
  await Promise.all(stages.splice(0).map((stage) => stage.stop()));
});

describe('ExactlyOnceStage', () => {
  it('turns 10,000 records on 6 partitions into exactly 10,000 outputs', async () => {
    const stack = testStack();
    const prefix = uniquePrefix('eos');
    const input = `${prefix}in`;
    const output = `${prefix}out`;
    const groupId = `${prefix}group`;
    await createTopics(stack.kafka, [
      { name: input, partitions: 6 },
      { name: output, partitions: 6 },
      { name: `${input}.dlq`, partitions: 1 },
    ]);
    const ids = Array.from({ length: 10_000 }, (_, i) => `row-${i}`);
    await produceValues(
      stack.kafka,
      stack.registry,
      input,
      avroSchemas.TextSegment,
      ids.map((id, i) => ({ key: id, value: textSegment(id, `hello number ${i}`, i) })),
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
    const admin = stack.kafka.admin();
    await admin.connect();
    await waitForGroupCaughtUp(admin, groupId, input, 120_000);
    await admin.disconnect();

    const records = await readTopic(stack.kafka, output);
    const decoder = new AvroDecoder<TextSegment>(stack.registry, avroSchemas.TextSegment);
    const values = await Promise.all(records.map((r) => decoder.decode(r.value)));
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
});
