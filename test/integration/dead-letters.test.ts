import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../runtime/kafka/dead-letter.js';
import { AvroDecoder, AvroEncoder } from '../../runtime/serde/avro-serde.js';
import type { ExactlyOnceStage } from '../../runtime/stage/exactly-once-stage.js';
import { avroSchemas, type Feedback, type TextSegment } from '../../schemas/index.js';
import { REJECT_MARKER, UppercaseHandler } from '../fixtures/uppercase-handler.js';
import { testStack, uniquePrefix } from '../support/stack.js';
import { counterValue, inProcessStage } from '../support/stage.js';
import { createTopics, produceRaw, readTopic, textSegment, waitForGroupCaughtUp } from '../support/topics.js';

const stages: ExactlyOnceStage<TextSegment, TextSegment>[] = [];
afterEach(async () => {
  await Promise.all(stages.splice(0).map((stage) => stage.stop()));
});

describe('dead letters', () => {
  it('sends undecodable and rejected records to <input>.dlq with their bytes and error headers, and processes the rest', async () => {
    const stack = testStack();
    const prefix = uniquePrefix('dlq');
    const input = `${prefix}in`;
    const output = `${prefix}out`;
    const dlq = `${input}.dlq`;
    const groupId = `${prefix}group`;
    // One partition: the bad records sit between good ones in a known order.
    await createTopics(stack.kafka, [
      { name: input, partitions: 1 },
      { name: output, partitions: 1 },
      { name: dlq, partitions: 1 },
    ]);
    const segments = await AvroEncoder.forSubject<TextSegment>(
      stack.registry,
      `${input}-value`,
      avroSchemas.TextSegment,
    );
    const feedback = await AvroEncoder.forSubject<Feedback>(
      stack.registry,
      `${prefix}other-value`,
      avroSchemas.Feedback,
    );
    const good = (n: number) => ({
      key: `good-${n}`,
      value: segments.encode(textSegment(`good-${n}`, `fine ${n}`)),
    });
    const unknownSchemaId = Buffer.from([0, 0x3b, 0x9a, 0xc9, 0xff, 2, 104, 105]);
    const truncated = segments.encode(textSegment('cut', 'this one loses its tail')).subarray(0, 12);
    const wrongType = feedback.encode({
      id: 'f1',
      resultId: 'r1',
      streamId: null,
      seq: null,
      verdict: 'wrong',
      label: 'joy',
      comment: null,
      createdAtMs: Date.now(),
      trace: [],
    });
    const bad = [
      { key: 'not-avro', value: Buffer.from('this is not Avro at all'), reason: 'wire format' },
      { key: 'unknown-schema', value: unknownSchemaId, reason: 'schema id' },
      { key: 'truncated', value: truncated, reason: 'does not decode' },
      { key: 'wrong-schema', value: wrongType, reason: 'cannot be read' },
      {
        key: 'rejected',
        value: segments.encode(textSegment('rejected', `please ${REJECT_MARKER}`)),
        reason: REJECT_MARKER,
      },
    ];
    const messages = [good(0), good(1)];
    bad.forEach((record, i) => {
      messages.push({ key: record.key, value: record.value });
      messages.push(good(i + 2));
    });
    await produceRaw(stack.kafka, input, messages);

    const { stage, metrics } = inProcessStage(stack, {
      input,
      output,
      groupId,
      handler: new UppercaseHandler(output),
    });
    stages.push(stage);
    await stage.start();
    const admin = stack.kafka.admin();
    await admin.connect();
    await waitForGroupCaughtUp(admin, groupId, input, 60_000);
    await admin.disconnect();

    const outputs = await readTopic(stack.kafka, output);
    const decoder = new AvroDecoder<TextSegment>(stack.registry, avroSchemas.TextSegment);
    const outputIds = await Promise.all(outputs.map(async (r) => (await decoder.decode(r.value)).id));
    expect(outputIds).toEqual(Array.from({ length: bad.length + 2 }, (_, i) => `good-${i}`));

    const dead = await readTopic(stack.kafka, dlq);
    expect(dead.map((r) => r.key)).toEqual(bad.map((r) => r.key));
    for (const [i, record] of dead.entries()) {
      const original = messages.findIndex((m) => m.key === record.key);
      expect(record.value?.equals(bad[i]!.value)).toBe(true);
      expect(record.headers[DLQ_HEADERS.topic]).toBe(input);
      expect(record.headers[DLQ_HEADERS.partition]).toBe('0');
      expect(record.headers[DLQ_HEADERS.offset]).toBe(String(original));
      expect(record.headers[DLQ_HEADERS.stageName]).toBe('uppercase');
      expect(record.headers[DLQ_HEADERS.message]).toContain(bad[i]!.reason);
      expect(record.headers[DLQ_HEADERS.errorClass]).toMatch(/Error$/);
      expect(record.headers[DLQ_HEADERS.phase]).toBe(
        record.key === 'rejected' ? 'TRANSFORMATION' : 'VALUE_CONVERTER',
      );
    }
    expect(await counterValue(metrics, 'stage_dlq_records_total')).toBe(bad.length);
  });
});
