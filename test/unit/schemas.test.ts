import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { UnprocessableRecordError } from '../../runtime/errors.js';
import { durabilityFor, registryStorageTopics } from '../../runtime/kafka/topics.js';
import { AvroEncoder, schemaIdOf } from '../../runtime/serde/avro-serde.js';
import type { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { generateModule, readAvroDir } from '../../schemas/codegen.js';
import { avroSchemas, deadLetterTopicOf, plannedTopics, TOPICS } from '../../schemas/index.js';

const avroDir = fileURLToPath(new URL('../../schemas/avro/', import.meta.url));
const generatedFile = fileURLToPath(new URL('../../schemas/events.generated.ts', import.meta.url));

describe('Avro schemas', () => {
  it('generated TypeScript matches the .avsc files (run `npm run schemas:generate` after editing them)', () => {
    expect(readFileSync(generatedFile, 'utf8')).toBe(generateModule(readAvroDir(avroDir)));
  });

  it('every event schema stands alone and carries streamId, seq and a trace', () => {
    for (const name of ['AudioChunk', 'TextSegment', 'EmotionResult', 'Feedback'] as const) {
      const type = avro.Type.forSchema(avroSchemas[name] as unknown as avro.Schema) as avro.types.RecordType;
      const fields = type.fields.map((f) => f.name);
      expect(fields, name).toEqual(expect.arrayContaining(['streamId', 'seq', 'trace']));
    }
  });

  it('EmotionResult stays BACKWARD compatible: results written before scores could be null still read', () => {
    // The schema as it was before issue 18 (float scores, no distribution, labels or sentiment).
    const registry = {};
    avro.Type.forSchema(JSON.parse(readFileSync(join(avroDir, 'TraceStamp.avsc'), 'utf8')), { registry });
    const old = avro.Type.forSchema(
      JSON.parse(
        readFileSync(fileURLToPath(new URL('../fixtures/EmotionResult.v1.avsc', import.meta.url)), 'utf8'),
      ),
      { registry },
    );
    const current = avro.Type.forSchema(avroSchemas.EmotionResult as unknown as avro.Schema);
    const written = old.toBuffer({
      id: 'r',
      segmentId: 's:1',
      streamId: 's',
      seq: 1,
      text: 't',
      originalText: 't',
      language: 'en',
      languageFallback: false,
      core: { anger: 0.1, disgust: 0, fear: 0, joy: 0.8, neutral: 0.1, sadness: 0, surprise: 0 },
      fine: null,
      topLabel: 'joy',
      model: { name: 'm', version: '1', engine: 'onnx' },
      startMs: null,
      endMs: null,
      jobId: null,
      trace: [],
    });
    const read = current.fromBuffer(written, current.createResolver(old)) as Record<string, unknown>;
    expect(read).toMatchObject({ topLabel: 'joy', distribution: null, labels: [], sentiment: null });
    expect((read.core as Record<string, number>).joy).toBeCloseTo(0.8, 6);
  });

  it('round-trips a value, filling defaults for omitted optional fields', () => {
    const type = avro.Type.forSchema(avroSchemas.TextSegment as unknown as avro.Schema);
    const decoded = type.fromBuffer(
      type.toBuffer({
        id: 'a',
        streamId: 's',
        seq: 3,
        origin: 'CSV',
        text: 'hi',
        trace: [{ stage: 'x', atMs: 5 }],
      }),
    );
    expect(decoded).toMatchObject({
      id: 'a',
      seq: 3,
      language: null,
      correction: null,
      trace: [{ stage: 'x', atMs: 5 }],
    });
  });
});

describe('topic topology', () => {
  it('plans every pipeline topic with its dead-letter topic, under the prefix', () => {
    const planned = plannedTopics({ prefix: 'p.', partitions: 12, replicationFactor: 3 });
    const names = planned.map((t) => t.name);
    for (const definition of Object.values(TOPICS)) {
      expect(names).toContain(`p.${definition.name}`);
      expect(names).toContain(deadLetterTopicOf(`p.${definition.name}`));
    }
    expect(new Set(names).size).toBe(names.length);
    const segments = planned.find((t) => t.name === 'p.segments.raw')!;
    expect(segments).toMatchObject({ partitions: 12, replicationFactor: 3, value: 'TextSegment' });
    expect(planned.find((t) => t.name === 'p.feedback')!.config['retention.ms']).toBe('-1');
    expect(planned.find((t) => t.name === 'p.emotions.dlq')!.value).toBeUndefined();
    // acks=all waits for min.insync.replicas copies: 2 of 3 on a cluster, 1 when unset.
    const durable = plannedTopics({
      prefix: 'p.',
      partitions: 12,
      replicationFactor: 3,
      minInsyncReplicas: 2,
    });
    expect(durable.every((t) => t.config['min.insync.replicas'] === '2')).toBe(true);
    expect(planned.every((t) => t.config['min.insync.replicas'] === '1')).toBe(true);
  });

  it('asks for 3 copies and 2 in sync on a cluster of three or more brokers, 1 and 1 on a single broker', () => {
    expect(durabilityFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(durabilityFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(durabilityFor(5)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(
      registryStorageTopics(3).map((t) => [t.name, t.partitions, t.replicationFactor, t.config]),
    ).toEqual(
      ['_schemas', '_schemas_snapshots'].map((name) => [
        name,
        1,
        3,
        { 'cleanup.policy': 'compact', 'retention.ms': '-1', 'min.insync.replicas': '2' },
      ]),
    );
  });

  it('the encoder writes the registry wire format, for records small and larger than its scratch buffer', async () => {
    // Only register() is used: it answers the id a registry would (the integration tests use a real one).
    const registry = { register: async () => 42 } as unknown as SchemaRegistryClient;
    const encoder = await AvroEncoder.forSubject<Record<string, unknown>>(
      registry,
      's-value',
      avroSchemas.TextSegment,
    );
    const type = avro.Type.forSchema(avroSchemas.TextSegment as unknown as avro.Schema);
    const segment = (text: string) => ({
      id: 'a:1',
      streamId: 'a',
      seq: 1,
      origin: 'API',
      text,
      trace: [{ stage: 'produce', atMs: 1 }],
    });
    // 20,000 characters: past the 4 KiB scratch buffer, then a short one after it has grown.
    for (const text of ['short', 'ș'.repeat(20_000), 'short again']) {
      const written = encoder.encode(segment(text));
      expect(written[0]).toBe(0);
      expect(schemaIdOf(written)).toBe(42);
      expect(type.fromBuffer(written.subarray(5))).toMatchObject({ text, streamId: 'a', seq: 1 });
    }
    const first = encoder.encode(segment('one'));
    encoder.encode(segment('two'));
    // Each record owns its bytes: encoding the next does not overwrite the last.
    expect((type.fromBuffer(first.subarray(5)) as { text: string }).text).toBe('one');
    expect(() => encoder.encode({ ...segment('x'), seq: 'not a number' })).toThrow(UnprocessableRecordError);
  });
});
