import type { Registry } from 'prom-client';
import * as prom from 'prom-client';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { KafkaClients } from './client.js';
import { decodeOrSkip } from './decode-or-skip.js';
import { RecordPump } from './record-pump.js';

export interface LiveRecord<T> {
  value: T;
  key: string | null;
  /** The record's timestamp: when it was written to the topic (epoch ms). */
  timestampMs: number;
  partition: number;
  offset: string;
}

/** One topic the reader follows: its reader schema and what to do with each record. */
export interface LiveTopic<T> {
  topic: string;
  schema: object;
  onRecord: (record: LiveRecord<T>) => void;
  /** Decode only records whose key passes (cheap filtering before the Avro work); all by default. */
  accept?: (key: string | null) => boolean;
}

/**
 * Follows topics from their end as records are committed (read_committed), for a process that
 * shows what happens now rather than processing everything: one consumer in a group of its own,
 * starting at the latest offsets, committing nothing, so the group vanishes when the process
 * stops. Records that do not decode are logged and counted, never fatal: the stages dead-letter
 * bad records; a reader only looks.
 */
export class LiveTopicReader {
  private joined = false;
  private readonly decodeFailures: prom.Counter;
  private pump: RecordPump | undefined;

  private constructor(
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.decodeFailures = new prom.Counter({
      name: 'live_reader_undecodable_records_total',
      help: 'Records a live reader skipped because they do not decode',
      labelNames: ['topic'],
      registers: [metrics],
    });
  }

  static async start(
    options: LiveTopicReaderOptions & { topics: LiveTopic<unknown>[] },
  ): Promise<LiveTopicReader> {
    const followers = new Map(
      options.topics.map((topic) => [
        topic.topic,
        { topic, decoder: new AvroDecoder(options.registry, topic.schema) },
      ]),
    );
    const reader = new LiveTopicReader(options.logger, options.metrics);
    let stopping = false;
    const pump = new RecordPump({
      clients: options.kafka,
      groupId: options.groupId,
      topics: options.topics.map((t) => t.topic),
      logger: options.logger,
      mode: 'latest',
      group: { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3000 },
      onJoin: () => {
        reader.joined = true;
      },
      onRecord: async (topic, record) => {
        const follower = followers.get(topic);
        if (!follower) return;
        const key = record.key?.toString() ?? null;
        if (follower.topic.accept && !follower.topic.accept(key)) return;
        const value = await decodeOrSkip(follower.decoder, record.value, {
          topic,
          logger: options.logger,
          stopping: () => stopping,
          onSkip: () => reader.decodeFailures.inc({ topic }),
        });
        if (value === undefined) return;
        follower.topic.onRecord({
          value,
          key,
          timestampMs: Number(record.timestamp),
          partition: record.partition,
          offset: record.offset,
        });
      },
      onRecordError: (error, topic, record) =>
        options.logger.warn({ err: error, topic, offset: record.offset }, 'live record not handled'),
    });
    reader.pump = pump;
    reader.stopReading = () => {
      stopping = true;
    };
    await pump.start();
    return reader;
  }

  private stopReading: () => void = () => undefined;

  /** True once the reader is in its group and receiving. */
  isReady(): boolean {
    return this.joined;
  }

  async stop(): Promise<void> {
    this.stopReading();
    this.joined = false;
    await this.pump?.stop();
  }
}

/** Lets topics of different value types share one reader's list. */
export function liveTopic<T>(topic: LiveTopic<T>): LiveTopic<unknown> {
  return topic as unknown as LiveTopic<unknown>;
}

export interface LiveTopicReaderOptions {
  kafka: KafkaClients;
  registry: SchemaRegistryClient;
  groupId: string;
  logger: Logger;
  metrics: Registry;
}
