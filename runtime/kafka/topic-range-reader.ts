import { randomBytes } from 'node:crypto';
import { murmur2 } from '@platformatic/kafka';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { KafkaAdmin } from './admin.js';
import type { KafkaClients } from './client.js';
import type { LiveRecord } from './live-reader.js';
import { RecordPump } from './record-pump.js';
import type { ConsumedRecord } from './records.js';

/** Offsets [from, to) of one partition. */
export interface PartitionSpan {
  partition: number;
  from: bigint;
  to: bigint;
}

/**
 * Reads the given offset spans once (read_committed unless asked otherwise) with a throwaway
 * consumer group, deleted afterwards, and returns when every span is read to its end (transaction
 * markers included).
 */
export async function scanSpans(
  clients: KafkaClients,
  topic: string,
  spans: PartitionSpan[],
  onMessage: (partition: number, message: ConsumedRecord) => Promise<void> | void,
  options: { readUncommitted?: boolean } = {},
): Promise<void> {
  const pending = new Map(spans.filter((s) => s.from < s.to).map((s) => [s.partition, s]));
  if (pending.size === 0) return;
  const groupId = `emotion-stream.range-reader.${randomBytes(6).toString('hex')}`;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const reached = (partition: number) => {
    if (pending.delete(partition) && pending.size === 0) finish();
  };
  const pump: RecordPump = new RecordPump({
    clients,
    groupId,
    topics: [topic],
    logger: clients.logger,
    mode: 'manual',
    readUncommitted: options.readUncommitted ?? false,
    starts: [...pending.values()].map((span) => ({ topic, partition: span.partition, offset: span.from })),
    onRecord: async (_topic, record) => {
      const span = pending.get(record.partition);
      const offset = BigInt(record.offset);
      if (!span || offset < span.from || offset >= span.to) return;
      await onMessage(record.partition, record);
      if (offset >= span.to - 1n) reached(record.partition);
    },
    // A span may end in transaction markers, which no record reports: where the fetches are.
    onIdle: () => {
      for (const span of [...pending.values()]) {
        const at = pump.fetchedTo(topic, span.partition);
        if (at !== undefined && at >= span.to) reached(span.partition);
      }
    },
  });
  const admin = clients.admin();
  try {
    await pump.start();
    await finished;
  } finally {
    await pump.stop();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** Where each partition of a topic starts for a time (or at its first offset) and ends now. */
export async function spansOf(
  admin: KafkaAdmin,
  topic: string,
  fromMs: number | undefined,
  toMs?: number,
): Promise<PartitionSpan[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const offsetsAt = async (ms: number | undefined) =>
    ms === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(topic, ms);
  const starts = (await offsetsAt(fromMs)) ?? ends.map((e) => ({ partition: e.partition, offset: e.low }));
  // With an end time, each span stops before the first record stamped at or after it (issue 21:
  // a replay read every partition to its end and skipped what lay past --to).
  const stops = await offsetsAt(toMs);
  const offsetOf = (
    list: Array<{ partition: number; offset: string }> | undefined,
    partition: number,
    fallback: string,
  ) => {
    const offset = list?.find((entry) => entry.partition === partition)?.offset;
    return BigInt(offset === undefined || BigInt(offset) < 0n ? fallback : offset);
  };
  return ends.map((end) => {
    const to = offsetOf(stops, end.partition, end.high);
    return {
      partition: end.partition,
      from: offsetOf(starts, end.partition, end.high),
      to: to < BigInt(end.high) ? to : BigInt(end.high),
    };
  });
}

/**
 * The offset of the last record (not transaction marker) in each span, read backwards in growing
 * windows from its end; undefined for a span without records. A replay is done with a partition
 * once it has committed past this offset.
 */
export async function lastRecordOffsets(
  kafka: KafkaClients,
  topic: string,
  spans: PartitionSpan[],
): Promise<Map<number, bigint | undefined>> {
  const result = new Map<number, bigint | undefined>();
  let window = 64n;
  let open = spans.filter((s) => s.from < s.to);
  for (const span of spans) if (span.from >= span.to) result.set(span.partition, undefined);
  while (open.length > 0) {
    const windows = open.map((s) => ({ ...s, from: laterOf(s.to - window, s.from) }));
    const last = new Map<number, bigint>();
    await scanSpans(kafka, topic, windows, (partition, message) => {
      last.set(partition, BigInt(message.offset));
    });
    const next: PartitionSpan[] = [];
    for (const span of open) {
      const found = last.get(span.partition);
      const searched = windows.find((w) => w.partition === span.partition)!;
      if (found !== undefined || searched.from === span.from) result.set(span.partition, found);
      else next.push(span);
    }
    open = next;
    window *= 4n;
  }
  return result;
}

function laterOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export interface TopicRangeOptions<T> {
  kafka: KafkaClients;
  registry: SchemaRegistryClient;
  topic: string;
  schema: object;
  /** Records stamped at or after this (epoch ms); the start of the log when absent. */
  fromMs?: number;
  /** Records stamped before this; the end offsets taken at the start when absent. */
  toMs?: number;
  /**
   * Only the partition this key is in (as the default partitioner, murmur2 like Java's, put it);
   * every partition when absent. The topic's other keys in that partition are read too.
   */
  key?: string;
  onRecord: (record: LiveRecord<T>) => void;
  logger: Logger;
}

/**
 * Reads a time range of a topic once and stops at the end offsets the topic had when the read
 * began, so a topic that keeps growing still gives a finite answer. Records that do not decode
 * are counted, not fatal.
 */
export async function readTopicRange<T>(
  options: TopicRangeOptions<T>,
): Promise<{ records: number; undecodable: number }> {
  const { kafka, topic } = options;
  const admin = kafka.admin();
  await admin.connect();
  let spans: PartitionSpan[];
  try {
    spans = await spansOf(admin, topic, options.fromMs, options.toMs);
    if (options.key !== undefined) {
      const partition = partitionOf(options.key, topic, spans.length);
      spans = spans.filter((span) => span.partition === partition);
    }
  } finally {
    await admin.disconnect();
  }
  const decoder = new AvroDecoder<T>(options.registry, options.schema);
  let records = 0;
  let undecodable = 0;
  await scanSpans(kafka, topic, spans, async (partition, message) => {
    const timestampMs = Number(message.timestamp);
    if (options.toMs !== undefined && timestampMs >= options.toMs) return;
    if (options.fromMs !== undefined && timestampMs < options.fromMs) return;
    let value: T;
    try {
      value = await decoder.decode(message.value);
    } catch (error) {
      undecodable += 1;
      options.logger.warn(
        { topic, partition, offset: message.offset, err: error },
        'undecodable record skipped',
      );
      return;
    }
    records += 1;
    options.onRecord({
      value,
      key: message.key?.toString() ?? null,
      timestampMs,
      partition,
      offset: message.offset,
    });
  });
  return { records, undecodable };
}

/** The partition Java's default partitioner (murmur2, made positive) gives a key. */
export function partitionOf(key: string, _topic: string, partitions: number): number {
  return (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
}

/** A group's committed offset per partition of a topic (partitions it never committed are absent). */
export async function committedOffsets(
  admin: KafkaAdmin,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const result = new Map<number, bigint>();
  for (const entry of offsets.find((t) => t.topic === topic)?.partitions ?? []) {
    const offset = BigInt(entry.offset);
    if (offset >= 0n) result.set(entry.partition, offset);
  }
  return result;
}

/**
 * How far a group has come through spans (records committed past, of the records in them) and
 * whether it is past each span's last record: a bounded run (replay, dlq redrive) is done then.
 */
export async function rangeProgress(
  admin: KafkaAdmin,
  groupId: string,
  topic: string,
  spans: PartitionSpan[],
  lastRecords: ReadonlyMap<number, bigint | undefined>,
): Promise<{ done: bigint; total: bigint; finished: boolean }> {
  const now = await committedOffsets(admin, groupId, topic);
  let done = 0n;
  let total = 0n;
  let finished = true;
  for (const span of spans) {
    const last = lastRecords.get(span.partition);
    if (last === undefined) continue;
    total += last + 1n - span.from;
    const at = now.get(span.partition) ?? span.from;
    done += (at > last + 1n ? last + 1n : at) - span.from;
    if (at <= last) finished = false;
  }
  return { done: done < 0n ? 0n : done, total, finished };
}
