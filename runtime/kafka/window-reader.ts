import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer } from 'kafkajs';
import { untilAvailable } from '../backoff.js';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { KafkaAdmin } from './admin.js';
import { type KafkaClients, kafkajsOf } from './client.js';
import { decodeOrSkip } from './decode-or-skip.js';

export interface WindowReaderOptions<T> {
  kafka: KafkaClients;
  registry: SchemaRegistryClient;
  topic: string;
  schema: object;
  /** Records written since now minus this are read, then every new one. */
  windowMs: number;
  /** A group of its own per process is made from this prefix. */
  groupPrefix: string;
  logger: Logger;
  onRecord: (value: T) => void;
  /** After each fetched batch's records. */
  afterBatch?: () => void;
}

/**
 * Reads a topic's recent window and then follows it (read_committed), for a table built in memory
 * from a topic: a consumer in a group of its own per process (every instance reads every
 * partition), committing nothing, starting at "now minus the window" each time. `loaded` resolves
 * once everything written before the start is read. Records that do not decode are skipped.
 */
export class WindowReader<T> {
  private readonly consumer: Consumer;
  private readonly admin: KafkaAdmin;
  private readonly decoder: AvroDecoder<T>;
  /** Partitions still behind the end they had at the start, with that end. */
  private readonly loading = new Map<number, bigint>();
  private markLoaded!: () => void;
  readonly loaded = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });
  private stopping = false;

  constructor(private readonly options: WindowReaderOptions<T>) {
    const groupId = `${options.groupPrefix}.${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.consumer = kafkajsOf(options.kafka).consumer({ groupId, readUncommitted: false });
    this.admin = options.kafka.admin();
    this.decoder = new AvroDecoder<T>(options.registry, options.schema);
  }

  async start(): Promise<void> {
    const { topic, windowMs } = this.options;
    await this.admin.connect();
    // Right after the topic is created (or a broker restart) its leader may not be known yet:
    // kafkajs' admin then throws NOT_LEADER_FOR_PARTITION instead of retrying (seen in a CI run).
    const { ends, starts } = await untilAvailable(
      async () => ({
        ends: await this.admin.fetchTopicOffsets(topic),
        starts: await this.admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - windowMs),
      }),
      {
        initialMs: 100,
        maxMs: 2000,
        stopping: () => false,
        onRetry: (error, waitMs) =>
          this.options.logger.warn(
            { err: error, waitMs, topic },
            'cannot read the topic offsets yet; retrying',
          ),
      },
    );
    for (const end of ends) {
      const start = starts.find((s) => s.partition === end.partition);
      if (BigInt(start?.offset ?? end.high) < BigInt(end.high))
        this.loading.set(end.partition, BigInt(end.high));
    }
    if (this.loading.size === 0) this.markLoaded();
    const { GROUP_JOIN, END_BATCH_PROCESS } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      for (const start of starts)
        this.consumer.seek({ topic, partition: start.partition, offset: start.offset });
    });
    // Also fired for batches of transaction markers only, which never reach eachBatch. Loaded means
    // read up to the end at start: records written since may keep the lag above zero for long.
    this.consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      const end = this.loading.get(payload.partition);
      if (
        end !== undefined &&
        BigInt(payload.lastOffset) >= end - 1n &&
        this.loading.delete(payload.partition) &&
        this.loading.size === 0
      ) {
        this.markLoaded();
      }
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: false });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const message of batch.messages) {
          const value = await decodeOrSkip(this.decoder, message.value, {
            topic,
            logger: this.options.logger,
            stopping: () => this.stopping,
          });
          if (value) this.options.onRecord(value);
        }
        await heartbeat();
        this.options.afterBatch?.();
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }
}
