import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassifyService } from '../../processors/classify/service.js';
import { startCorrectService } from '../../processors/correct/service.js';
import { startTranslateService } from '../../processors/translate/service.js';
import { KAFKA_COMPRESSIONS } from '../../runtime/config/index.js';
import { AvroDecoder, AvroEncoder } from '../../runtime/serde/avro-serde.js';
import { avroSchemas, type EmotionResult, type TextSegment } from '../../schemas/index.js';
import { outputOf } from '../support/cli.js';
import { decodeAll, pipelineStack, TestServices } from '../support/pipeline.js';
import { textSegment } from '../support/topics.js';

/** Confluent's Python client (librdkafka), installed by deploy/tools/install-confluent-client.sh. */
const PYTHON = resolve('.cache/confluent-client/venv/bin/python');
const PEER = resolve('test/support/confluent-client.py');
const ROWS_PER_CODEC = 20;

/** Runs the peer with `input` on stdin; resolves with its stdout, rejects on a non-zero exit. */
function peer(args: string[], input = ''): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(PYTHON, [PEER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const { stdout, stderr } = outputOf(child);
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? done(stdout())
        : fail(new Error(`confluent-client ${args[0]} exited ${code}: ${stderr()}`)),
    );
    child.stdin.end(input);
  });
}

const services = new TestServices();
afterEach(() => services.stopAll());

describe("rows written by Confluent's client", () => {
  it('come back as results in every compression.type, with no stage failing, and the client reads our zstd results', async () => {
    // The stages write zstd here, so the peer reads the codec we write that no other test reads.
    const { stack, topics } = await pipelineStack('confluent', { KAFKA_COMPRESSION: 'zstd' });
    const started = [];
    for (const start of [startCorrectService, startTranslateService, startClassifyService]) {
      started.push((await services.start(stack, start)).service);
    }
    // A stage that fails (a batch it cannot read used to crash it) rejects its `failed`.
    const failures = Promise.race(started.map((service) => service.failed ?? new Promise<never>(() => {})));

    const encoder = await AvroEncoder.forSubject<TextSegment>(
      stack.registry,
      `${topics.segmentsRaw}-value`,
      avroSchemas.TextSegment,
    );
    const expected: string[] = [];
    for (const compression of KAFKA_COMPRESSIONS) {
      const rows = Array.from({ length: ROWS_PER_CODEC }, (_, i) => {
        const id = `${compression}-${i}`;
        expected.push(id);
        const value = encoder.encode(textSegment(id, `I am so happy today, row ${i} in ${compression}`, i));
        return JSON.stringify({ key: id, value: value.toString('base64') });
      });
      const report = JSON.parse(
        await peer(
          ['produce', stack.config.kafka.brokers!.join(','), topics.segmentsRaw, compression],
          rows.join('\n'),
        ),
      );
      expect(report, compression).toEqual({ delivered: ROWS_PER_CODEC, failed: [] });
    }

    const results = async () => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const found = await decodeAll<EmotionResult>(stack, topics.emotions, avroSchemas.EmotionResult);
        if (found.length >= expected.length || Date.now() > deadline) return found;
        await new Promise((wait) => setTimeout(wait, 1000));
      }
    };
    const classified = await Promise.race([results(), failures]);
    expect(classified.map((result) => result.segmentId).sort()).toEqual([...expected].sort());

    // The peer reads the committed results (read_committed, zstd batches) and they decode as ours.
    const lines = await peer([
      'read',
      stack.config.kafka.brokers!.join(','),
      topics.emotions,
      String(expected.length),
      '60',
    ]);
    const decoder = new AvroDecoder<EmotionResult>(stack.registry, avroSchemas.EmotionResult);
    const read = await Promise.all(
      lines
        .trim()
        .split('\n')
        .map(async (line) => (await decoder.decode(Buffer.from(JSON.parse(line).value, 'base64'))).segmentId),
    );
    expect(read.sort()).toEqual([...expected].sort());
  });
});
