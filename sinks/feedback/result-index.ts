import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import { decodeOrSkip } from '../../runtime/kafka/decode-or-skip.js';
import type { Logger } from '../../runtime/logger.js';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import type { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { untilAvailable } from '../../runtime/stage/backoff.js';
import type { EmotionResult } from '../../schemas/index.js';

/** What feedback needs of the result it judges. */
export type IndexedResult = Pick<
  EmotionResult,
  'text' | 'originalText' | 'language' | 'topLabel' | 'core' | 'model' | 'streamId' | 'seq'
>;

export interface ResultIndexOptions {
  kafka: Kafka;
  registry: SchemaRegistryClient;
  topic: string;
  schema: object;
  /** Results written since now minus this are indexed. */
  windowMs: number;
  maxResults: number;
  logger: Logger;
  metrics: Registry;
  groupPrefix: string;
}

/**
 * The table side of the feedback ⋈ emotions join: recent results by id, read from the `emotions`
 * topic by a consumer of its own (no commits; it starts at "now minus the window" each time). A
 * bounded window, as in any stream-table join: feedback on an older result is kept unmatched.
 */
export class ResultIndex {
  private readonly results = new Map<string, IndexedResult>();
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly decoder: AvroDecoder<EmotionResult>;
  private readonly size: Gauge;
  /** Partitions still behind the end they had when the index started, with that end. */
  private readonly loading = new Map<number, bigint>();
  private loaded!: () => void;
  private isLoaded = false;
  /** Resolves once everything written before the index started (within the window) is in it. */
  readonly ready = new Promise<void>((resolve) => {
    this.loaded = () => {
      this.isLoaded = true;
      resolve();
    };
  });
  private readonly waiters = new Set<() => void>();
  private stopping = false;

  constructor(private readonly options: ResultIndexOptions) {
    // A group of its own per process: every instance indexes every partition.
    const groupId = `${options.groupPrefix}.${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.consumer = options.kafka.consumer({ groupId, readUncommitted: false });
    this.admin = options.kafka.admin();
    this.decoder = new AvroDecoder<EmotionResult>(options.registry, options.schema);
    this.size = new Gauge({
      name: 'feedback_join_indexed_results',
      help: 'Results held by the feedback sink to join feedback with',
      registers: [options.metrics],
    });
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
            { err: error, waitMs },
            'cannot read the result topic offsets yet; retrying',
          ),
      },
    );
    for (const end of ends) {
      const start = starts.find((s) => s.partition === end.partition);
      if (BigInt(start?.offset ?? end.high) < BigInt(end.high))
        this.loading.set(end.partition, BigInt(end.high));
    }
    if (this.loading.size === 0) this.loaded();
    const { GROUP_JOIN, END_BATCH_PROCESS } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      for (const start of starts)
        this.consumer.seek({ topic, partition: start.partition, offset: start.offset });
    });
    // Also fired for batches of transaction markers only, which never reach eachBatch. Loaded means
    // read up to the end at start: results written since may keep the lag above zero for long.
    this.consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      const end = this.loading.get(payload.partition);
      if (
        end !== undefined &&
        BigInt(payload.lastOffset) >= end - 1n &&
        this.loading.delete(payload.partition) &&
        this.loading.size === 0
      ) {
        this.options.logger.info({ results: this.results.size }, 'result index loaded');
        this.loaded();
      }
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: false });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const message of batch.messages) {
          const result = await decodeOrSkip(this.decoder, message.value, {
            topic,
            logger: this.options.logger,
            stopping: () => this.stopping,
          });
          if (result) this.add(result);
        }
        await heartbeat();
        this.size.set(this.results.size);
        for (const wake of this.waiters) wake();
      },
    });
  }

  /** True once the results written before start are indexed (readiness). */
  get loadedAll(): boolean {
    return this.isLoaded;
  }

  get(id: string): IndexedResult | undefined {
    return this.results.get(id);
  }

  /** Waits until every id is indexed or the deadline passes; returns the ids still missing. */
  async waitFor(ids: string[], deadlineMs: number): Promise<string[]> {
    let missing = ids.filter((id) => !this.results.has(id));
    while (missing.length > 0 && Date.now() < deadlineMs && !this.stopping) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, Math.min(1000, deadlineMs - Date.now())));
        this.waiters.add(wake);
      });
      missing = missing.filter((id) => !this.results.has(id));
    }
    return missing;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.waiters) wake();
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  private add(result: EmotionResult): void {
    const { text, originalText, language, topLabel, core, model, streamId, seq } = result;
    this.results.delete(result.id);
    this.results.set(result.id, { text, originalText, language, topLabel, core, model, streamId, seq });
    // Map keeps insertion order: the first key is the oldest result.
    while (this.results.size > this.options.maxResults) {
      this.results.delete(this.results.keys().next().value!);
    }
  }
}
