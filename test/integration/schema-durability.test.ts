import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { CONFIG_RESOURCE } from '../../runtime/kafka/admin.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { RecordProducer } from '../../runtime/kafka/record-producer.js';
import { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { KafkaBroker } from '../../runtime/stack/kafka-broker.js';
import { defaultCacheDir } from '../../runtime/stack/local-stack.js';
import { readArtifactLock } from '../../runtime/stack/lock.js';
import { SchemaRegistryServer } from '../../runtime/stack/schema-registry-server.js';
import { avroSchemas } from '../../schemas/index.js';

const logger = pino({ level: 'warn' });
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * The broker's retention clock, shortened: segments roll after a second and expire after three,
 * checked every second. Under the settings Apicurio's storage topics used to get (the broker's
 * defaults, delete policy), the registry's schemas would be gone within seconds, as they would be
 * after a week in production.
 */
const SHORT_CLOCK = {
  'log.retention.ms': '3000',
  'log.roll.ms': '1000',
  'log.retention.check.interval.ms': '1000',
  'log.segment.delete.delay.ms': '0',
  'log.cleaner.backoff.ms': '500',
};

describe('schema registry storage', () => {
  it('keeps every schema across a registry restart after its data would have expired under the old settings', async () => {
    const config = loadConfig({});
    const dataDir = mkdtempSync(join(tmpdir(), 'schema-durability-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const common = {
      lock: readArtifactLock(),
      cacheDir: defaultCacheDir(config),
      repositoryUrl: config.stack.mavenRepositoryUrl,
      logger,
    };
    const broker = await KafkaBroker.start({
      ...common,
      dataDir: join(dataDir, 'kafka'),
      extraProperties: SHORT_CLOCK,
    });
    cleanups.push(() => broker.stop());
    const kafka = createKafka(
      loadConfig({ KAFKA_BROKERS: broker.bootstrap }).kafka,
      pino({ level: 'silent' }),
    );
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());

    const startRegistry = async () => {
      const server = await SchemaRegistryServer.start({
        ...common,
        dataDir: join(dataDir, 'registry'),
        kafkaBootstrap: broker.bootstrap,
      });
      cleanups.push(() => server.stop());
      return { server, client: new SchemaRegistryClient({ ...config.schemaRegistry, url: server.url }) };
    };
    let { server, client } = await startRegistry();

    // The storage topics as the registry found them: compacted, never expired.
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: ['_schemas', '_schemas_snapshots'].map((name) => ({
        type: CONFIG_RESOURCE.topic,
        name,
      })),
    });
    for (const resource of described.resources) {
      const value = (name: string) => resource.configEntries.find((e) => e.configName === name)?.configValue;
      expect(value('cleanup.policy'), resource.resourceName).toBe('compact');
      expect(value('retention.ms'), resource.resourceName).toBe('-1');
    }

    const ids = {
      result: await client.register('durability-emotions-value', avroSchemas.EmotionResult),
      segment: await client.register('durability-segments-value', avroSchemas.TextSegment),
    };

    // A control topic with the delete policy and the broker's (shortened) retention: its first
    // record must expire, which shows the clock really ran past the schemas' old lifetime.
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'control', numPartitions: 1 }] });
    const producer = await RecordProducer.connect(kafka);
    cleanups.push(() => producer.close());
    await producer.send('control', [{ value: 'first' }]);
    let controlStart = '0';
    for (const deadline = Date.now() + 60_000; controlStart === '0' && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // New records roll segments; the expired ones behind them are deleted.
      await producer.send('control', [{ value: 'tick' }]);
      await client.register(
        'durability-ticks-value',
        { type: 'record', name: `Tick${Date.now()}`, fields: [] },
        'NONE',
      );
      controlStart = (await admin.fetchTopicOffsets('control'))[0]!.low;
    }
    expect(Number(controlStart)).toBeGreaterThan(0);
    // The journal lost nothing: its first offset is still 0.
    expect((await admin.fetchTopicOffsets('_schemas'))[0]!.low).toBe('0');

    // A registry restarted now replays the journal and still knows every schema by its id.
    await server.stop();
    ({ server, client } = await startRegistry());
    expect(JSON.parse((await client.latestVersion('durability-emotions-value'))!.schema)).toMatchObject({
      name: avroSchemas.EmotionResult.name,
    });
    expect((await client.writerType(ids.result)).name).toContain('EmotionResult');
    expect((await client.writerType(ids.segment)).name).toContain('TextSegment');
  });

  it('registers a schema once whatever the order of its keys (normalized lookups on the embedded registry)', async () => {
    const client = new SchemaRegistryClient(loadConfig().schemaRegistry);
    const subject = `normalize-${Date.now()}-value`;
    const schema = {
      type: 'record',
      name: 'Probe',
      namespace: 'emotionstream.test',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'score', type: ['null', 'double'], default: null },
      ],
    };
    // The same schema, keys written in another order, as another tool or version might.
    const reordered = {
      fields: [
        { type: 'string', name: 'id' },
        { default: null, type: ['null', 'double'], name: 'score' },
      ],
      namespace: 'emotionstream.test',
      name: 'Probe',
      type: 'record',
    };
    const first = await client.register(subject, schema);
    expect(await client.register(subject, reordered)).toBe(first);
    expect(await client.register(subject, schema)).toBe(first);
    expect((await client.latestVersion(subject))?.version).toBe(1);

    // A version another client registered as written (keys unsorted, spaces): still the same schema.
    const other = `normalize-other-${Date.now()}-value`;
    const written = await fetch(`${client.url}/subjects/${other}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(reordered, null, 2) }),
    });
    const { id } = (await written.json()) as { id: number };
    expect(await client.register(other, schema)).toBe(id);
    expect((await client.latestVersion(other))?.version).toBe(1);
  });
});
