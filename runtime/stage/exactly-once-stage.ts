import { hostname } from 'node:os';
import { Backoff, untilAvailable } from '../backoff.js';
import type { StageConfig } from '../config/index.js';
import { errorMessage, RetryableError } from '../errors.js';
import type { KafkaAdmin } from '../kafka/admin.js';
import type { KafkaClients } from '../kafka/client.js';
import { isFencingError, isKafkaRebalance } from '../kafka/errors.js';
import { GroupConsumer, type PartitionBatch } from '../kafka/group-consumer.js';
import { PartitionProducers } from '../kafka/partition-producers.js';
import type { Assignment, ConsumedRecord, RecordsByTopic } from '../kafka/records.js';
import type { Logger } from '../logger.js';
import type { StageMetrics } from '../metrics/stage-metrics.js';
import { AvroDecoder, AvroEncoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import { STAGE_MOVES, type StageState, StateMachine } from '../state-machine.js';
import { BatchProcessor } from './batch-processor.js';
import { ChunkSizer } from './chunk-sizer.js';
import type { StageHandler } from './types.js';

export interface StageTopic {
  topic: string;
  /** Avro schema: the reader schema for the input, the writer schema for an output. */
  schema: object;
  /** Registry subject; defaults to `<topic>-value`. */
  subject?: string;
}

export interface ExactlyOnceStageOptions<In, Out> {
  /** Short stage name, used in metrics, logs, trace stamps and dead-letter headers. */
  name: string;
  groupId: string;
  input: StageTopic;
  deadLetterTopic: string;
  outputs: StageTopic[];
  handler: StageHandler<In, Out>;
  kafka: KafkaClients;
  registry: SchemaRegistryClient;
  logger: Logger;
  metrics: StageMetrics;
  settings: StageConfig;
  /** Distinguishes instances in logs and dead-letter headers. */
  instanceId?: string;
  /**
   * A bounded run (replay): per input partition, the offset to stop before. Records from there on
   * are neither processed nor committed, and the partition is paused once it reaches it.
   */
  endOffsets?: ReadonlyMap<number, bigint>;
}

/**
 * Consume (read_committed) → handle a batch → produce outputs, dead letters and the consumed
 * offsets in one Kafka transaction. Nothing is committed that was not produced, and nothing is
 * produced twice: a crash before the commit aborts the whole batch, which is then consumed again.
 */
export class ExactlyOnceStage<In, Out> {
  private readonly consumer: GroupConsumer;
  private readonly admin: KafkaAdmin;
  private readonly producers: PartitionProducers;
  private readonly encoders = new Map<string, AvroEncoder<Out>>();
  private readonly processor: BatchProcessor<In, Out>;
  private readonly backoffs = new Map<string, Backoff>();
  /** One for the stage: every partition's records go through the same engine. */
  private readonly chunkSizer: ChunkSizer;
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** Partitions whose committed offset must be re-read before their next batch (see verifyPosition). */
  private readonly unverified = new Set<string>();
  private readonly log: Logger;
  private readonly instanceId: string;
  private readonly lifecycle: StateMachine<StageState>;
  private crashed: ((error: Error) => void) | undefined;
  readonly failed: Promise<never>;

  constructor(private readonly options: ExactlyOnceStageOptions<In, Out>) {
    const { kafka, settings, name, groupId } = options;
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}`;
    this.log = options.logger.child({ stage: name });
    this.lifecycle = new StateMachine<StageState>(`stage ${name}`, 'created', STAGE_MOVES);
    this.consumer = new GroupConsumer({
      clients: kafka,
      groupId,
      topic: options.input.topic,
      settings,
      logger: this.log,
      onAssigned: (assigned) => this.onAssigned(assigned),
      onBatch: (batch) => this.onBatch(batch),
      onCrash: (error) => this.crashed?.(error),
    });
    this.admin = kafka.admin();
    this.producers = new PartitionProducers(kafka, {
      transactionalIdPrefix: groupId,
      transactionTimeoutMs: settings.transactionTimeoutMs,
      logger: this.log,
    });
    this.chunkSizer = new ChunkSizer(settings.maxBatchRecords, settings.commitIntervalMs);
    this.processor = new BatchProcessor<In, Out>({
      name,
      instanceId: this.instanceId,
      deadLetterTopic: options.deadLetterTopic,
      decoder: new AvroDecoder<In>(options.registry, options.input.schema),
      encoders: this.encoders,
      handler: options.handler,
      log: this.log,
    });
    this.failed = new Promise<never>((_, reject) => {
      this.crashed = reject;
    });
    this.failed.catch(() => undefined);
  }

  get name(): string {
    return this.options.name;
  }

  /** Stopping or stopped: no new work starts, no paused partition resumes. */
  private get stopping(): boolean {
    return this.lifecycle.is('stopping', 'stopped');
  }

  /** True once the consumer is in its group and the stage can make progress. */
  isReady(): boolean {
    return this.lifecycle.is('running');
  }

  /**
   * A registry that is down when the stage starts is waited out, as it is mid-stream, instead of
   * exiting into a restart loop until it is back.
   */
  private untilRegistryAnswers<R>(operation: () => Promise<R>): Promise<R> {
    return untilAvailable(operation, {
      initialMs: this.options.settings.retryInitialMs,
      maxMs: this.options.settings.retryMaxMs,
      stopping: () => this.stopping,
      onRetry: (error, waitMs) =>
        this.log.warn(
          { err: errorMessage(error), waitMs },
          'schema registry not available at start; retrying',
        ),
    });
  }

  async start(): Promise<void> {
    this.lifecycle.moveTo('starting');
    const { registry, outputs, input, groupId } = this.options;
    for (const output of outputs) {
      const encoder = await this.untilRegistryAnswers(() =>
        AvroEncoder.forSubject<Out>(registry, output.subject ?? `${output.topic}-value`, output.schema),
      );
      this.encoders.set(output.topic, encoder);
    }
    await this.admin.connect();
    await this.consumer.connect();
    if (!this.lifecycle.is('starting')) return;
    this.lifecycle.moveTo('joining');
    await this.consumer.run();
    this.log.info({ input: input.topic, outputs: outputs.map((o) => o.topic), groupId }, 'stage started');
  }

  private onAssigned(assigned: Assignment): void {
    const { groupId } = this.options;
    const owned = new Set(
      Object.entries(assigned).flatMap(([topic, partitions]) =>
        partitions.map((partition) => PartitionProducers.key(topic, partition)),
      ),
    );
    // Ownership may have changed hands while we were out of the group: re-check every partition.
    this.unverified.clear();
    for (const key of owned) this.unverified.add(key);
    // A join that lands while the stage stops changes nothing.
    if (!this.lifecycle.is('joining', 'running')) return;
    this.lifecycle.moveTo('running');
    this.log.info({ assigned, groupId }, 'joined consumer group');
    void this.producers.retainOnly(owned);
    // Each owned partition's transactional producer is initialised now, not when its first record
    // arrives, so the first result of a live stream does not wait for it in every stage (bench
    // audio: 2.9 s → 2.2-2.4 s after its speech ended; the rest take 0.7-0.9 s; what else the
    // first record of a partition costs, about 0.3 s a stage, is not traced yet). A failure here
    // is retried by the first batch, as before.
    for (const [topic, partitions] of Object.entries(assigned)) {
      for (const partition of partitions) this.producers.ready(topic, partition).catch(() => undefined);
    }
  }

  /** Finishes the batch in flight, leaves the group and closes every producer. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.lifecycle.moveTo('stopping');
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.options.metrics.pausedPartitions.set({ stage: this.name }, 0);
    await this.consumer.disconnect();
    await this.producers.closeAll();
    await this.admin.disconnect();
    this.lifecycle.moveTo('stopped');
    this.log.info('stage stopped');
  }

  private async onBatch(batch: PartitionBatch): Promise<void> {
    const { topic, partition, markDone, heartbeat } = batch;
    const key = PartitionProducers.key(topic, partition);
    try {
      let messages = batch.records;
      if (this.unverified.has(key)) {
        const committed = await this.verifyPosition(topic, partition);
        if (committed !== undefined) {
          const skipped = messages.filter((message) => BigInt(message.offset) < committed);
          if (skipped.length > 0) {
            this.log.info(
              { topic, partition, committed: String(committed), skipped: skipped.length },
              'skipping records already committed',
            );
            markDone(String(committed - 1n));
            messages = messages.filter((message) => BigInt(message.offset) >= committed);
          }
        }
      }
      const end = this.options.endOffsets?.get(partition);
      const reachedEnd = end !== undefined && messages.some((message) => BigInt(message.offset) >= end);
      if (end !== undefined) messages = messages.filter((message) => BigInt(message.offset) < end);
      for (let start = 0; start < messages.length; ) {
        if (!batch.isCurrent() || this.stopping) return;
        const chunk = messages.slice(start, start + this.chunkSizer.size);
        start += chunk.length;
        const chunkStartedAt = performance.now();
        await this.processChunk(topic, partition, chunk);
        this.chunkSizer.observe(chunk.length, performance.now() - chunkStartedAt);
        markDone(chunk[chunk.length - 1]!.offset);
        this.backoffs.get(key)?.reset();
        await heartbeat();
      }
      this.options.metrics.consumerLag.set(
        { stage: this.name, topic, partition: String(partition) },
        batch.lag(),
      );
      if (reachedEnd) {
        this.log.info({ topic, partition, end: String(end) }, 'partition reached the end of its range');
        this.consumer.pause(topic, partition);
      }
    } catch (error) {
      if (isKafkaRebalance(error)) throw error;
      // Whatever failed, the partition's producer may be new when it resumes: re-read its position.
      this.unverified.add(key);
      this.scheduleRetry(topic, partition, error);
    }
  }

  /**
   * After initialising the partition's producer (which waits for any earlier owner's transaction to
   * complete), reads the group's committed offset afresh. The consumer read its starting offset
   * before that, so it may be behind a transaction that was still committing: those records are
   * already done and must not be processed again.
   */
  private async verifyPosition(topic: string, partition: number): Promise<bigint | undefined> {
    await this.producers.ready(topic, partition);
    const offsets = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
    const entry = offsets.find((o) => o.topic === topic)?.partitions.find((p) => p.partition === partition);
    this.unverified.delete(PartitionProducers.key(topic, partition));
    const offset = entry ? BigInt(entry.offset) : -1n;
    return offset >= 0n ? offset : undefined;
  }

  private async processChunk(topic: string, partition: number, chunk: ConsumedRecord[]): Promise<void> {
    const startedAt = performance.now();
    const batch = await this.processor.process(topic, partition, chunk);
    const { metrics } = this.options;
    for (const { offset, error, phase } of batch.deadLettered) {
      metrics.deadLettered.inc({ stage: this.name, topic, reason: error.name });
      this.log.warn({ topic, partition, offset, err: error, phase }, 'record dead-lettered');
    }
    await this.commit(topic, partition, batch.messagesByTopic, chunk[chunk.length - 1]!.offset);

    const committedAt = Date.now();
    metrics.recordsIn.inc({ stage: this.name, topic }, chunk.length);
    for (const output of batch.outputs) {
      metrics.recordsOut.inc({ stage: this.name, topic: output.topic });
      if (output.originMs !== undefined) {
        metrics.endToEndLatency.observe({ stage: this.name }, (committedAt - output.originMs) / 1000);
      }
    }
    metrics.batchDuration.observe({ stage: this.name }, (performance.now() - startedAt) / 1000);
    metrics.transactions.inc({ stage: this.name, outcome: 'committed' });
    metrics.lastProgress.set({ stage: this.name }, committedAt / 1000);
  }

  private async commit(topic: string, partition: number, outputsByTopic: RecordsByTopic, lastOffset: string) {
    try {
      await this.producers.commit(topic, partition, outputsByTopic, {
        groupId: this.options.groupId,
        nextOffset: BigInt(lastOffset) + 1n,
      });
    } catch (error) {
      // The transaction was aborted and its producer replaced: the committed offset is re-read
      // before this partition is consumed again (onBatch).
      const fenced = isFencingError(error);
      this.options.metrics.transactions.inc({ stage: this.name, outcome: fenced ? 'fenced' : 'aborted' });
      throw new RetryableError(
        fenced
          ? `producer fenced: another instance now owns ${topic}[${partition}]`
          : `transaction failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  /** Pauses the partition and resumes it after a backoff; its records are then consumed again. */
  private scheduleRetry(topic: string, partition: number, error: unknown): void {
    if (this.stopping) return;
    const key = PartitionProducers.key(topic, partition);
    const backoff =
      this.backoffs.get(key) ??
      new Backoff(this.options.settings.retryInitialMs, this.options.settings.retryMaxMs);
    this.backoffs.set(key, backoff);
    const delay = backoff.next();
    const reason = error instanceof Error ? error.name : 'Error';
    this.options.metrics.retries.inc({ stage: this.name, reason });
    this.log.warn(
      { topic, partition, err: error, retryInMs: delay, attempt: backoff.attempt },
      'batch not committed; will retry',
    );
    this.consumer.pause(topic, partition);
    const pending = this.retryTimers.get(key);
    if (pending) clearTimeout(pending);
    else this.options.metrics.pausedPartitions.inc({ stage: this.name });
    this.retryTimers.set(
      key,
      setTimeout(() => {
        this.retryTimers.delete(key);
        this.options.metrics.pausedPartitions.dec({ stage: this.name });
        if (!this.stopping) this.consumer.resume(topic, partition);
      }, delay),
    );
  }
}
