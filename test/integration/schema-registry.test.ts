import { describe, expect, it } from 'vitest';
import { registerPipelineSchemas } from '../../cli/provision.js';
import { AvroDecoder, AvroEncoder } from '../../runtime/serde/avro-serde.js';
import { IncompatibleSchemaError } from '../../runtime/serde/schema-registry.js';
import { avroSchemas, plannedTopics, subjectOf, type TextSegment } from '../../schemas/index.js';
import { testStack, uniquePrefix } from '../support/stack.js';
import { textSegment } from '../support/topics.js';

type Field = { name: string; type: unknown; default?: unknown };
const withField = (field: Field) => ({
  ...avroSchemas.TextSegment,
  fields: [...avroSchemas.TextSegment.fields, field],
});

describe('schema registry (Apicurio, Confluent API)', () => {
  it('registers every pipeline subject as <topic>-value with BACKWARD compatibility', async () => {
    const prefix = uniquePrefix('reg');
    const stack = testStack({ TOPIC_PREFIX: prefix });
    const registered = await registerPipelineSchemas(stack.config, stack.logger);
    const expected = plannedTopics(stack.config.topics)
      .filter((t) => t.value)
      .map((t) => subjectOf(t.name));
    expect(registered.map((r) => r.subject)).toEqual(expected);
    for (const subject of expected) {
      expect(await stack.registry.getCompatibility(subject)).toBe('BACKWARD');
      expect((await stack.registry.latestVersion(subject))?.version).toBe(1);
    }
    // Registering again is idempotent: same ids, no new versions.
    expect(await registerPipelineSchemas(stack.config, stack.logger)).toEqual(registered);
  });

  it('rejects an incompatible change of TextSegment and accepts a compatible one', async () => {
    const stack = testStack();
    const subject = `${uniquePrefix('compat')}segments-value`;
    const v1 = await stack.registry.register(subject, avroSchemas.TextSegment);

    const breaking = withField({ name: 'sentiment', type: 'string' });
    expect(await stack.registry.isCompatible(subject, breaking)).toBe(false);
    await expect(stack.registry.register(subject, breaking)).rejects.toBeInstanceOf(IncompatibleSchemaError);

    const compatible = withField({ name: 'sentiment', type: ['null', 'string'], default: null });
    expect(await stack.registry.isCompatible(subject, compatible)).toBe(true);
    const v2 = await stack.registry.register(subject, compatible);
    expect(v2).not.toBe(v1);
    expect((await stack.registry.latestVersion(subject))?.version).toBe(2);
  });

  it('reads records of every registered version into the reader schema', async () => {
    const stack = testStack();
    const subject = `${uniquePrefix('evolve')}segments-value`;
    const v1 = await AvroEncoder.forSubject<TextSegment>(stack.registry, subject, avroSchemas.TextSegment);
    const v2Schema = withField({ name: 'sentiment', type: ['null', 'string'], default: null });
    const v2 = await AvroEncoder.forSubject<TextSegment & { sentiment: string | null }>(
      stack.registry,
      subject,
      v2Schema,
    );

    const oldReader = new AvroDecoder<TextSegment>(stack.registry, avroSchemas.TextSegment);
    const newReader = new AvroDecoder<TextSegment & { sentiment: string | null }>(stack.registry, v2Schema);
    const segment = textSegment('s1', 'hello');

    const writtenByV2 = v2.encode({ ...segment, sentiment: 'positive' });
    expect(await oldReader.decode(writtenByV2)).not.toHaveProperty('sentiment');
    expect((await newReader.decode(writtenByV2)).sentiment).toBe('positive');
    // A v1 record read as v2 gets the new field's default.
    expect((await newReader.decode(v1.encode(segment))).sentiment).toBeNull();
    expect((await newReader.decode(v1.encode(segment))).text).toBe('hello');
  });
});
