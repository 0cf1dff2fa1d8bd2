import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import * as prom from 'prom-client';
import { errorMessage, isRetryable } from '../errors.js';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import { Backoff } from '../stage/backoff.js';

export interface LiveRecord<T> {
  value: T;
  key: string | null;
  /** The record's timestamp: when it was written to the topic (epoch ms). */
  timestampMs: number;
  partition: number;
  offset: string;
}

/**
 * Follows a topic from its end as records are committed (read_committed), for a process that
 * shows what happens now rather than processing everything: a consumer group of its own, starting
 * at the latest offsets, committing nothing, so the group vanishes when the process stops. Records
 * that do not decode are logged and counted, never fatal: the stages dead-letter bad records; a
 * reader only looks.
 */
export class LiveTopicReader<T> {
  private joined = false;
  private stopping = false;
  private readonly decodeFailures: prom.Counter;

  private constructor(
    private readonly consumer: Consumer,
    private readonly decoder: AvroDecoder<T>,
    private readonly options: LiveTopicReaderOptions<T>,
  ) {
    const name = 'live_reader_undecodable_records_total';
    // One counter per registry, shared by the readers of a process (labelled by topic).
    this.decodeFailures =
      (options.metrics.getSingleMetric(name) as prom.Counter | undefined) ??
      new prom.Counter({
        name,
        help: 'Records a live reader skipped because they do not decode',
        labelNames: ['topic'],
        registers: [options.metrics],
      });
  }

  static async start<T>(options: LiveTopicReaderOptions<T>): Promise<LiveTopicReader<T>> {
    const consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
    });
    const reader = new LiveTopicReader(
      consumer,
      new AvroDecoder<T>(options.registry, options.schema),
      options,
    );
    consumer.on(consumer.events.GROUP_JOIN, () => {
      reader.joined = true;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      reader.joined = false;
      options.logger.warn({ err: payload.error, restart: payload.restart }, 'live reader crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const message of batch.messages) {
          const value = await reader.decode(message.value);
          if (value === undefined) continue;
          options.onRecord({
            value,
            key: message.key?.toString() ?? null,
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

  /** The value, or undefined for a record to skip; waits out a registry that is down. */
  private async decode(buffer: Buffer | null): Promise<T | undefined> {
    const backoff = new Backoff(500, 10_000);
    for (;;) {
      try {
        return await this.decoder.decode(buffer);
      } catch (error) {
        if (!isRetryable(error) || this.stopping) {
          this.decodeFailures.inc({ topic: this.options.topic });
          this.options.logger.warn(
            { topic: this.options.topic, err: errorMessage(error) },
            'skipped a record that does not decode',
          );
          return undefined;
        }
        const waitMs = backoff.next();
        this.options.logger.warn({ err: errorMessage(error), waitMs }, 'cannot decode yet; retrying');
        await sleep(waitMs);
      }
    }
  }
}

export interface LiveTopicReaderOptions<T> {
  kafka: Kafka;
  registry: SchemaRegistryClient;
  topic: string;
  schema: object;
  groupId: string;
  logger: Logger;
  metrics: Registry;
  onRecord: (record: LiveRecord<T>) => void;
}
