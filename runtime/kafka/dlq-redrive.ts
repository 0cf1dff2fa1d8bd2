import { setTimeout as sleep } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import type { Logger } from '../logger.js';
import { type KafkaClients, kafkajsOf } from './client.js';
import { DLQ_HEADERS, headersAsStrings } from './dead-letter.js';
import type { ConsumedRecord, RecordHeaders } from './records.js';
import {
  committedOffsets,
  lastRecordOffsets,
  type PartitionSpan,
  rangeProgress,
  scanSpans,
  spansOf,
} from './topic-range-reader.js';

/**
 * Re-sends the dead letters of a range to the topic each came from, once the cause is fixed
 * (issue 21): key, value and the original headers as they were, the error headers dropped and a
 * `emotion-stream.redriven-from` header added. Exactly once and resumable, like a replay: a
 * consumer group of its own (starting at the range) and, per dead-letter partition, a
 * transactional producer that commits the group's offset with the records it sends; killed and run
 * again with the same group, it goes on where its last transaction ended.
 */

export const REDRIVEN_FROM_HEADER = 'emotion-stream.redriven-from';

export interface RedriveOptions {
  kafka: KafkaClients;
  logger: Logger;
  /** The dead-letter topic (`<topic>.dlq`). */
  deadLetterTopic: string;
  /** Where a record without the origin header goes (the topic the dead-letter topic belongs to). */
  fallbackTopic: string;
  groupId: string;
  fromMs?: number;
  toMs?: number;
  /** Count and report only; nothing is sent or committed. */
  dryRun?: boolean;
  /** Records per transaction. */
  maxBatchRecords?: number;
  onProgress?: (done: bigint, total: bigint) => void;
}

export interface RedriveSummary {
  /** Dead letters in the range (a dry run), or sent by this run. */
  records: number;
  /** Per original topic and error class: how many. */
  byOrigin: Record<string, number>;
  resumed: boolean;
  durationMs: number;
}

const ERROR_HEADERS = new Set<string>(Object.values(DLQ_HEADERS));

/** The record as it was before it failed, and the topic it goes back to. */
export function redrivenMessage(
  message: ConsumedRecord,
  source: { topic: string; partition: number },
  fallbackTopic: string,
): { topic: string; key: Buffer | null; value: Buffer | null; headers: RecordHeaders; reason: string } {
  const strings = headersAsStrings(message.headers);
  const headers: RecordHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {}))
    if (!ERROR_HEADERS.has(name) && name !== REDRIVEN_FROM_HEADER && value !== undefined)
      headers[name] = value;
  headers[REDRIVEN_FROM_HEADER] = `${source.topic}/${source.partition}/${message.offset}`;
  return {
    topic: strings[DLQ_HEADERS.topic] ?? fallbackTopic,
    key: message.key,
    value: message.value,
    headers,
    reason: strings[DLQ_HEADERS.errorClass] ?? 'unknown error',
  };
}

export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveSummary> {
  const started = Date.now();
  const { kafka: clients, logger, deadLetterTopic: topic, groupId } = options;
  const kafka = kafkajsOf(clients);
  const admin = clients.admin();
  await admin.connect();
  const byOrigin: Record<string, number> = {};
  const count = (message: ConsumedRecord, partition: number) => {
    const { topic: origin, reason } = redrivenMessage(message, { topic, partition }, options.fallbackTopic);
    byOrigin[`${origin} (${reason})`] = (byOrigin[`${origin} (${reason})`] ?? 0) + 1;
  };
  try {
    const spans = await spansOf(admin, topic, options.fromMs, options.toMs);
    const inTime = (message: ConsumedRecord) => {
      const at = Number(message.timestamp);
      return (
        (options.fromMs === undefined || at >= options.fromMs) &&
        (options.toMs === undefined || at < options.toMs)
      );
    };
    if (options.dryRun) {
      let records = 0;
      await scanSpans(clients, topic, spans, (partition, message) => {
        if (!inTime(message)) return;
        records += 1;
        count(message, partition);
      });
      return { records, byOrigin, resumed: false, durationMs: Date.now() - started };
    }
    const lastRecords = await lastRecordOffsets(clients, topic, spans);
    const committed = await committedOffsets(admin, groupId, topic);
    const resumed = committed.size > 0;
    if (!resumed)
      await admin.setOffsets({
        groupId,
        topic,
        partitions: spans.map((span) => ({ partition: span.partition, offset: span.from.toString() })),
      });
    const finished = async () => {
      const { done, total, finished: all } = await rangeProgress(admin, groupId, topic, spans, lastRecords);
      options.onProgress?.(done, total);
      return all;
    };
    let records = 0;
    if (await finished()) return { records, byOrigin, resumed, durationMs: Date.now() - started };

    const ends = new Map(spans.map((span: PartitionSpan) => [span.partition, span.to]));
    const producers = new Map<number, Producer>();
    // One transactional id per dead-letter partition: a second run (or a zombie of a killed one)
    // is fenced by the same id, as the stage does without KIP-447.
    const producerOf = async (partition: number) => {
      let producer = producers.get(partition);
      if (!producer) {
        producer = kafka.producer({
          transactionalId: `${groupId}.${partition}`,
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await producer.connect();
        producers.set(partition, producer);
      }
      return producer;
    };
    const consumer = kafka.consumer({ groupId, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    let failure: unknown;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const end = ends.get(batch.partition) ?? 0n;
        const inRange = batch.messages.filter((message) => BigInt(message.offset) < end);
        const size = options.maxBatchRecords ?? 500;
        try {
          for (let start = 0; start < inRange.length; start += size) {
            const chunk = inRange.slice(start, start + size);
            const producer = await producerOf(batch.partition);
            const transaction = await producer.transaction();
            try {
              const byTopic = new Map<
                string,
                Array<{ key: Buffer | null; value: Buffer | null; headers: RecordHeaders }>
              >();
              for (const message of chunk) {
                if (!inTime(message)) continue;
                const {
                  topic: origin,
                  key,
                  value,
                  headers,
                } = redrivenMessage(message, { topic, partition: batch.partition }, options.fallbackTopic);
                byTopic.set(origin, [...(byTopic.get(origin) ?? []), { key, value, headers }]);
              }
              if (byTopic.size > 0)
                await transaction.sendBatch({
                  acks: -1,
                  topicMessages: [...byTopic].map(([origin, messages]) => ({ topic: origin, messages })),
                });
              const next = (BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString();
              await transaction.sendOffsets({
                consumerGroupId: groupId,
                topics: [{ topic, partitions: [{ partition: batch.partition, offset: next }] }],
              });
              await transaction.commit();
            } catch (error) {
              await transaction.abort().catch(() => undefined);
              throw error;
            }
            for (const message of chunk)
              if (inTime(message)) {
                records += 1;
                count(message, batch.partition);
              }
            resolveOffset(chunk[chunk.length - 1]!.offset);
            await heartbeat();
          }
        } catch (error) {
          failure ??= error;
          throw error;
        }
        // Past the range's end: nothing more to read from this partition.
        if (batch.messages.some((message) => BigInt(message.offset) >= end))
          consumer.pause([{ topic, partitions: [batch.partition] }]);
      },
    });
    try {
      while (!(await finished())) {
        if (failure) throw failure;
        await sleep(300);
      }
    } finally {
      await consumer.disconnect();
      await Promise.all([...producers.values()].map((producer) => producer.disconnect()));
    }
    logger.info({ topic, groupId, records }, 'dead letters redriven');
    return { records, byOrigin, resumed, durationMs: Date.now() - started };
  } finally {
    await admin.disconnect();
  }
}
