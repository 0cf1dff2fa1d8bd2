import { newTextSegment } from '../../producers/segment-producer.js';
import type { KafkaAdmin } from '../../runtime/kafka/admin.js';
import type { KafkaClients } from '../../runtime/kafka/client.js';
import { RecordProducer } from '../../runtime/kafka/record-producer.js';
import type { RecordHeaders } from '../../runtime/kafka/records.js';
import { scanSpans } from '../../runtime/kafka/topic-range-reader.js';
import { AvroEncoder } from '../../runtime/serde/avro-serde.js';
import type { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { avroSchemas, type TextSegment } from '../../schemas/index.js';

export async function createTopics(
  kafka: KafkaClients,
  topics: Array<{ name: string; partitions: number }>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
}

export function textSegment(id: string, text: string, seq = 0): TextSegment {
  return newTextSegment({
    id,
    streamId: 'test-stream',
    seq,
    origin: 'API',
    text,
    language: 'en',
    trace: [{ stage: 'test-producer', atMs: Date.now() }],
  });
}

/** Produces raw (already encoded, or deliberately broken) values. */
export async function produceRaw(
  kafka: KafkaClients,
  topic: string,
  messages: Array<{ key: string; value: Buffer | null; headers?: RecordHeaders }>,
): Promise<void> {
  const producer = await RecordProducer.connect(kafka);
  try {
    for (let start = 0; start < messages.length; start += 1000) {
      await producer.send(topic, messages.slice(start, start + 1000));
    }
  } finally {
    await producer.close();
  }
}

/** Encodes values with the subject's registered schema and produces them keyed as given. */
export async function produceValues<T>(
  kafka: KafkaClients,
  registry: SchemaRegistryClient,
  topic: string,
  schema: object,
  records: Array<{ key: string; value: T }>,
): Promise<void> {
  const encoder = await AvroEncoder.forSubject<T>(registry, `${topic}-value`, schema);
  await produceRaw(
    kafka,
    topic,
    records.map((r) => ({ key: r.key, value: encoder.encode(r.value) })),
  );
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** The record's Kafka timestamp (epoch ms). */
  timestamp: number;
}

/**
 * Reads a topic from the beginning to its current end with a read_committed consumer of a fresh
 * group: exactly what a downstream service would see as committed.
 */
export async function readTopic(
  kafka: KafkaClients,
  topic: string,
  timeoutMs = 60_000,
  options: { readUncommitted?: boolean } = {},
): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const spans = offsets.map((p) => ({ partition: p.partition, from: BigInt(p.low), to: BigInt(p.high) }));
  const records: ReadRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`reading ${topic} timed out before reaching its end offsets`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([
      timedOut,
      scanSpans(
        kafka,
        topic,
        spans,
        (partition, message) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (value !== undefined) headers[name] = String(Array.isArray(value) ? value[0] : value);
          }
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value,
            headers,
            timestamp: Number(message.timestamp),
          });
        },
        options,
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return records;
}

/** Waits until a consumer group has committed up to the end of every partition of a topic. */
export async function waitForGroupCaughtUp(
  admin: KafkaAdmin,
  groupId: string,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let behind = -1n;
  while (Date.now() < deadline) {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? [];
    behind = ends.reduce((sum, end) => {
      const offset = BigInt(committed.find((c) => c.partition === end.partition)?.offset ?? '-1');
      return sum + BigInt(end.high) - (offset < 0n ? 0n : offset);
    }, 0n);
    if (behind === 0n) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`group ${groupId} still ${behind} records behind on ${topic} after ${timeoutMs} ms`);
}

/**
 * Reads a topic (read_committed, to its current end) until it holds at least `count` records.
 * For topics written by transactional stages, where a group's committed offset never reaches the
 * high watermark (the last transaction marker takes an offset of its own).
 */
export async function waitForRecords(
  kafka: KafkaClients,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<ReadRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let records = await readTopic(kafka, topic);
  while (records.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    records = await readTopic(kafka, topic);
  }
  if (records.length < count)
    throw new Error(`${topic} holds ${records.length} records, not ${count}, after ${timeoutMs} ms`);
  return records;
}

/** Segments onto a segment topic, each keyed by its id (as batch rows are). */
export async function produceSegments(
  stack: { kafka: KafkaClients; registry: SchemaRegistryClient },
  topic: string,
  segments: TextSegment[],
): Promise<void> {
  await produceValues(
    stack.kafka,
    stack.registry,
    topic,
    avroSchemas.TextSegment,
    segments.map((value) => ({ key: value.id, value })),
  );
}
