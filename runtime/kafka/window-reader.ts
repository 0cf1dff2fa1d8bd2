import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { untilAvailable } from '../backoff.js';
import type { Logger } from '../logger.js';
import { AvroDecoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { KafkaAdmin } from './admin.js';
import type { KafkaClients } from './client.js';
import { decodeOrSkip } from './decode-or-skip.js';
import { RecordPump } from './record-pump.js';

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
  private pump: RecordPump | undefined;
  private readonly admin: KafkaAdmin;
  private readonly decoder: AvroDecoder<T>;
  private readonly groupId: string;
  /** Partitions still behind the end they had at the start, with that end. */
  private readonly loading = new Map<number, bigint>();
  private markLoaded!: () => void;
  readonly loaded = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });
  private stopping = false;

  constructor(private readonly options: WindowReaderOptions<T>) {
    this.groupId = `${options.groupPrefix}.${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.admin = options.kafka.admin();
    this.decoder = new AvroDecoder<T>(options.registry, options.schema);
  }

  async start(): Promise<void> {
    const { topic, windowMs } = this.options;
    // Right after the topic is created (or a broker restart) its leader may not be known yet.
    const { ends, starts } = await untilAvailable(
      async () => ({
        ends: await this.admin.fetchTopicOffsets(topic),
        starts: await this.admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - windowMs),
      }),
      {
        initialMs: 100,
        maxMs: 2000,
        stopping: () => this.stopping,
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
    let sinceAfterBatch = 0;
    const pump: RecordPump = new RecordPump({
      clients: this.options.kafka,
      groupId: this.groupId,
      topics: [topic],
      logger: this.options.logger,
      mode: 'manual',
      starts: starts.map((s) => ({ topic, partition: s.partition, offset: BigInt(s.offset) })),
      onRecord: async (_topic, record) => {
        const value = await decodeOrSkip(this.decoder, record.value, {
          topic,
          logger: this.options.logger,
          stopping: () => this.stopping,
        });
        if (value) this.options.onRecord(value);
        sinceAfterBatch += 1;
      },
      // Loaded means read up to the end at start (transaction markers included): records written
      // since may keep the reader busy for long.
      onIdle: () => {
        if (sinceAfterBatch > 0) {
          sinceAfterBatch = 0;
          this.options.afterBatch?.();
        }
        for (const [partition, end] of this.loading) {
          const at = pump.fetchedTo(topic, partition);
          if (at !== undefined && at >= end && this.loading.delete(partition) && this.loading.size === 0)
            this.markLoaded();
        }
      },
    });
    this.pump = pump;
    await pump.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.pump?.stop();
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
