import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RecordProducer } from '../../runtime/kafka/record-producer.js';
import { AvroDecoder, AvroEncoder } from '../../runtime/serde/avro-serde.js';
import type { ExactlyOnceStage } from '../../runtime/stage/exactly-once-stage.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';
import { UppercaseHandler } from '../fixtures/uppercase-handler.js';
import { type TestStack, testStack } from '../support/stack.js';
import { counterValue, inProcessStage, stageTopics } from '../support/stage.js';
import { readTopic, textSegment } from '../support/topics.js';

/**
 * A record batch a stage cannot read at all, made the way it happens: the bytes of a batch on the
 * broker's disk go bad (its compressed payload scrambled; the broker serves fetches from the file
 * without checking the CRC) or carry a codec no client knows (the attributes' codec bits set to 7).
 */
const kafkaLogDir = inject('kafkaLogDir');

const stages: ExactlyOnceStage<TextSegment, TextSegment>[] = [];
afterEach(async () => {
  await Promise.all(stages.splice(0).map((stage) => stage.stop()));
});

/** Rewrites the batch starting at `baseOffset` in a partition's first log segment. */
function damageBatch(
  topic: string,
  partition: number,
  baseOffset: bigint,
  how: 'scramble' | 'unknown codec',
) {
  const file = join(kafkaLogDir, `${topic}-${partition}`, '00000000000000000000.log');
  const log = readFileSync(file);
  for (let at = 0; at + 12 <= log.length; at += 12 + log.readInt32BE(at + 8)) {
    if (log.readBigInt64BE(at) !== baseOffset) continue;
    // Record batch v2 (KIP-98): attributes at byte 21 of the batch, the records from byte 61 on.
    const attributes = at + 21;
    if ((log.readInt16BE(attributes) & 7) === 0) throw new Error('the batch to damage is not compressed');
    if (how === 'unknown codec') log.writeInt16BE((log.readInt16BE(attributes) & ~7) | 7, attributes);
    else for (let i = at + 61; i < at + 61 + 24; i++) log[i] = log[i]! ^ 0xa5;
    writeFileSync(file, log);
    return;
  }
  throw new Error(`no batch at offset ${baseOffset} in ${file}`);
}

/**
 * Three partitions of rows: partition 0 and 2 plain; partition `bad` (and `unknownCodec`, if
 * given) gets 20 rows, then a batch of 10 that is damaged, then 20 rows more.
 */
async function inputWithDamage(
  stack: TestStack,
  label: string,
  damaged: Array<[number, 'scramble' | 'unknown codec']>,
) {
  const { input, output, groupId } = await stageTopics(stack, label, 3);
  const encoder = await AvroEncoder.forSubject<TextSegment>(
    stack.registry,
    `${input}-value`,
    avroSchemas.TextSegment,
  );
  const producer = await RecordProducer.connect(stack.kafka);
  const sent = (partition: number, ids: string[]) =>
    producer.send(
      input,
      ids.map((id, i) => ({ key: id, value: encoder.encode(textSegment(id, `row ${id}`, i)), partition })),
    );
  const rows = (partition: number, from: number, count: number) =>
    Array.from({ length: count }, (_, i) => `p${partition}-${from + i}`);
  for (const partition of [0, 1, 2]) {
    await sent(partition, rows(partition, 0, 20));
    await sent(partition, rows(partition, 20, 10));
    await sent(partition, rows(partition, 30, 20));
  }
  await producer.close();
  for (const [partition, how] of damaged) damageBatch(input, partition, 20n, how);
  return { input, output, groupId, rows };
}

function uppercaseStage(stack: TestStack, topics: { input: string; output: string; groupId: string }) {
  const started = inProcessStage(stack, { ...topics, handler: new UppercaseHandler(topics.output) });
  stages.push(started.stage);
  return started;
}

async function outputIds(stack: TestStack, output: string): Promise<string[]> {
  const decoder = new AvroDecoder<TextSegment>(stack.registry, avroSchemas.TextSegment);
  const records = await readTopic(stack.kafka, output);
  return (await Promise.all(records.map((r) => decoder.decode(r.value)))).map((v) => v.id).sort();
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// Skipped only when KAFKA_BROKERS names an outside cluster: its log files, which these tests damage,
// are not on this machine (global-setup provides kafkaLogDir for the embedded broker alone).
describe.skipIf(kafkaLogDir === '')(
  'a record batch the stage cannot read (needs the embedded broker: its log files are damaged)',
  () => {
    it('holds only that partition by default: the others flow, nothing is lost, the stage stays up and says so', async () => {
      const stack = testStack();
      const { input, output, groupId, rows } = await inputWithDamage(stack, 'unreadable-hold', [
        [1, 'scramble'],
        [2, 'unknown codec'],
      ]);
      const { stage, metrics } = uppercaseStage(stack, { input, output, groupId });
      let crashed: unknown;
      stage.failed.catch((error) => {
        crashed = error;
      });
      await stage.start();
      // Partition 0 whole; partitions 1 and 2 up to their damaged batch.
      const expected = [...rows(0, 0, 50), ...rows(1, 0, 20), ...rows(2, 0, 20)].sort();
      let ids: string[] = [];
      await until(async () => {
        ids = await outputIds(stack, output);
        return ids.length >= expected.length && stage.heldPartitions().length === 2;
      });
      expect(ids).toEqual(expected);
      expect(
        stage
          .heldPartitions()
          .map((held) => [held.partition, held.offset])
          .sort(),
      ).toEqual([
        [1, 20n],
        [2, 20n],
      ]);
      expect(await counterValue(metrics, 'stage_unreadable_batches_total', { policy: 'hold' })).toBe(2);
      expect(await counterValue(metrics, 'stage_held_partitions')).toBe(2);
      expect(crashed).toBeUndefined();
      expect(stage.isReady()).toBe(true);
      // Nothing of the held partitions was committed past the damage: a fixed log is read from there.
      const admin = stack.kafka.admin();
      const [committed] = await admin.fetchOffsets({ groupId, topics: [input] });
      await admin.disconnect();
      const at = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
      expect(at.get(1)).toBe(20n);
      expect(at.get(2)).toBe(20n);
    });

    it('with KAFKA_UNREADABLE_BATCH=skip steps over the damaged batch alone and goes on', async () => {
      const stack = testStack({ KAFKA_UNREADABLE_BATCH: 'skip' });
      const { input, output, groupId, rows } = await inputWithDamage(stack, 'unreadable-skip', [
        [1, 'scramble'],
      ]);
      const { stage, metrics } = uppercaseStage(stack, { input, output, groupId });
      await stage.start();
      // Everything but the damaged batch's 10 rows.
      const expected = [...rows(0, 0, 50), ...rows(1, 0, 20), ...rows(1, 30, 20), ...rows(2, 0, 50)].sort();
      let ids: string[] = [];
      await until(async () => {
        ids = await outputIds(stack, output);
        return ids.length >= expected.length;
      });
      expect(ids).toEqual(expected);
      expect(stage.heldPartitions()).toEqual([]);
      expect(
        await counterValue(metrics, 'stage_unreadable_batches_total', { policy: 'skip', partition: '1' }),
      ).toBe(1);
    });
  },
);
