import type { Consumer } from 'kafkajs';
import type { Registry } from 'prom-client';
import * as prom from 'prom-client';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import { type KafkaClients, kafkajsOf } from './client.js';
import { decodeOrSkip } from './decode-or-skip.js';

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
  private stopping = false;
  private readonly decodeFailures: prom.Counter;

  private constructor(
    private readonly consumer: Consumer,
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
    const consumer = kafkajsOf(options.kafka).consumer({
      groupId: options.groupId,
      readUncommitted: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
    });
    const followers = new Map(
      options.topics.map((topic) => [
        topic.topic,
        { topic, decoder: new AvroDecoder(options.registry, topic.schema) },
      ]),
    );
    const reader = new LiveTopicReader(consumer, options.logger, options.metrics);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      reader.joined = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      reader.joined = false;
      options.logger.warn({ err: payload.error, restart: payload.restart }, 'live reader crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics.map((t) => t.topic), fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const follower = followers.get(batch.topic);
        if (!follower) return;
        for (const message of batch.messages) {
          const key = message.key?.toString() ?? null;
          if (follower.topic.accept && !follower.topic.accept(key)) continue;
          const value = await decodeOrSkip(follower.decoder, message.value, {
            topic: batch.topic,
            logger: options.logger,
            stopping: () => reader.stopping,
            onSkip: () => reader.decodeFailures.inc({ topic: batch.topic }),
          });
          if (value === undefined) continue;
          follower.topic.onRecord({
            value,
            key,
            timestampMs: Number(message.timestamp),
            partition: batch.partition,
            offset: message.offset,
          });
        }
        await heartbeat();
      },
    });
    return reader;
  }

  /** True once the reader is in its group and receiving. */
  isReady(): boolean {
    return this.joined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
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
