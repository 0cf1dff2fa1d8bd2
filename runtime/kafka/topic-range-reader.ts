import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { LiveRecord } from './live-reader.js';

export interface TopicRangeOptions<T> {
  kafka: Kafka;
  registry: SchemaRegistryClient;
  topic: string;
  schema: object;
  /** Records stamped at or after this (epoch ms); the start of the log when absent. */
  fromMs?: number;
  /** Records stamped before this; the end offsets taken at the start when absent. */
  toMs?: number;
  onRecord: (record: LiveRecord<T>) => void;
  logger: Logger;
}

/**
 * Reads a time range of a topic once (read_committed) and stops at the end offsets the topic had
 * when the read began, so a topic that keeps growing still gives a finite answer. Uses a throwaway
 * consumer group, deleted afterwards. Records that do not decode are counted, not fatal.
 */
export async function readTopicRange<T>(
  options: TopicRangeOptions<T>,
): Promise<{ records: number; undecodable: number }> {
  const { kafka, topic } = options;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `emotion-stream.range-reader.${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const starts =
      options.fromMs === undefined
        ? ends.map((e) => ({ partition: e.partition, offset: e.low }))
        : await admin.fetchTopicOffsetsByTimestamp(topic, options.fromMs);
    const endOf = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
    const pending = new Set(
      starts.filter((s) => BigInt(s.offset) < endOf.get(s.partition)!).map((s) => s.partition),
    );
    const decoder = new AvroDecoder<T>(options.registry, options.schema);
    let records = 0;
    let undecodable = 0;
    if (pending.size === 0) return { records, undecodable };

    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const reached = (partition: number, lastOffset: string) => {
      if (BigInt(lastOffset) >= endOf.get(partition)! - 1n && pending.delete(partition) && pending.size === 0)
        finish();
    };
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const start of starts) consumer.seek({ topic, partition: start.partition, offset: start.offset });
    });
    // Fired for every batch, including those of transaction markers only.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
      reached(payload.partition, payload.lastOffset),
    );
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = endOf.get(batch.partition)!;
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= end) break;
          const timestampMs = Number(message.timestamp);
          if (options.toMs !== undefined && timestampMs >= options.toMs) continue;
          if (options.fromMs !== undefined && timestampMs < options.fromMs) continue;
          let value: T;
          try {
            value = await decoder.decode(message.value);
          } catch (error) {
            undecodable += 1;
            options.logger.warn(
              { topic, partition: batch.partition, offset: message.offset, err: error },
              'undecodable record skipped',
            );
            continue;
          }
          records += 1;
          options.onRecord({
            value,
            key: message.key?.toString() ?? null,
            timestampMs,
            partition: batch.partition,
            offset: message.offset,
          });
        }
      },
    });
    await finished;
    return { records, undecodable };
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
