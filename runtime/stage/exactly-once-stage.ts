import { hostname } from 'node:os';
import { untilAvailable } from '../backoff.js';
import type { StageConfig } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { KafkaClients } from '../kafka/client.js';
import { ExactlyOnceLoop } from '../kafka/exactly-once-loop.js';
import type { PartitionRecord } from '../kafka/records.js';
import type { Logger } from '../logger.js';
import type { StageMetrics } from '../metrics/stage-metrics.js';
import { AvroDecoder, AvroEncoder } from '../serde/avro-serde.js';
import type { SchemaRegistryClient } from '../serde/schema-registry.js';
import { STAGE_MOVES, type StageState, StateMachine } from '../state-machine.js';
import { endRecordSpans, type RecordSpan } from '../tracing/record-spans.js';
import { BatchProcessor, type ProcessedBatch } from './batch-processor.js';
import { ChunkSizer } from './chunk-sizer.js';
import type { ChangelogState } from './keyed-state.js';
import type { StageHandler } from './types.js';

const NOT_COMMITTED = new Error('batch not committed (taken again, or the stage stopped)');

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
  /** The handler's keyed state, written in the stage's transactions and restored after a join. */
  state?: ReadonlyArray<ChangelogState<unknown>>;
  /** A replay: each record's span starts a new trace, linked to the one the record carries. */
  linkTraces?: boolean;
}

/**
 * A stage: consume (read_committed) → handle a batch → produce outputs, dead letters and the
 * consumed offsets in one Kafka transaction (runtime/kafka/exactly-once-loop.ts, KIP-447). This
 * part is Kafka Streams' StreamTask: decode, handle and encode a batch (BatchProcessor), size the
 * batches to the engine (ChunkSizer), and count what happened.
 */
export class ExactlyOnceStage<In, Out> {
  private readonly loop: ExactlyOnceLoop<ProcessedBatch>;
  private readonly encoders = new Map<string, AvroEncoder<Out>>();
  private readonly processor: BatchProcessor<In, Out>;
  /** One for the stage: every partition's records go through the same engine. */
  private readonly chunkSizer: ChunkSizer;
  private readonly log: Logger;
  private readonly instanceId: string;
  private readonly lifecycle: StateMachine<StageState>;
  private crashed: ((error: Error) => void) | undefined;
  /** The spans of the batch in flight, ended when its transaction commits or it is taken again. */
  private openSpans: RecordSpan[] = [];
  readonly failed: Promise<never>;

  constructor(private readonly options: ExactlyOnceStageOptions<In, Out>) {
    const { kafka, settings, name, groupId } = options;
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}`;
    this.log = options.logger.child({ stage: name });
    this.lifecycle = new StateMachine<StageState>(`stage ${name}`, 'created', STAGE_MOVES);
    this.chunkSizer = new ChunkSizer(settings.maxBatchRecords, settings.commitIntervalMs);
    this.processor = new BatchProcessor<In, Out>({
      name,
      instanceId: this.instanceId,
      deadLetterTopic: options.deadLetterTopic,
      decoder: new AvroDecoder<In>(options.registry, options.input.schema),
      encoders: this.encoders,
      handler: options.handler,
      log: this.log,
      groupId,
      ...(options.linkTraces ? { linkTraces: true } : {}),
    });
    const { metrics } = options;
    const stage = { stage: name };
    this.loop = new ExactlyOnceLoop({
      clients: kafka,
      groupId,
      topic: options.input.topic,
      settings,
      logger: this.log,
      ...(options.endOffsets ? { endOffsets: options.endOffsets } : {}),
      batchSize: () => this.chunkSizer.size,
      process: (records) => this.process(records),
      onCrash: (error) => this.crashed?.(error),
      observer: {
        assigned: (assigned) => {
          // A join that lands while the stage stops changes nothing.
          if (!this.lifecycle.is('joining', 'running')) return;
          if (this.lifecycle.is('joining')) this.lifecycle.moveTo('running');
          for (const state of options.state ?? []) state.assigned(assigned[options.input.topic] ?? []);
          this.log.info({ assigned, groupId }, 'joined consumer group');
        },
        committed: (records, batch, durationMs) => this.committed(records, batch, durationMs),
        aborted: (_error, fenced) =>
          metrics.transactions.inc({ ...stage, outcome: fenced ? 'fenced' : 'aborted' }),
        retrying: (error) =>
          metrics.retries.inc({ ...stage, reason: error instanceof Error ? error.name : 'Error' }),
        held: (partitions) => metrics.pausedPartitions.set(stage, partitions),
        unreadable: (batch) => {
          metrics.unreadableBatches.inc({
            ...stage,
            topic: batch.topic,
            partition: String(batch.partition),
            policy: batch.policy,
          });
          metrics.heldPartitions.set(stage, this.loop.heldPartitions().length);
        },
        lag: (partition, records) =>
          metrics.consumerLag.set(
            { ...stage, topic: options.input.topic, partition: String(partition) },
            records,
          ),
      },
    });
    this.failed = new Promise<never>((_, reject) => {
      this.crashed = reject;
    });
    this.failed.catch(() => undefined);
  }

  get name(): string {
    return this.options.name;
  }

  /** Stopping or stopped: no new work starts. */
  private get stopping(): boolean {
    return this.lifecycle.is('stopping', 'stopped');
  }

  /** True once the consumer is in its group and the stage can make progress. */
  isReady(): boolean {
    return this.lifecycle.is('running');
  }

  /** Input partitions held because their next batch cannot be read (KAFKA_UNREADABLE_BATCH=hold). */
  heldPartitions(): Array<{ topic: string; partition: number; offset: bigint }> {
    return this.loop.heldPartitions();
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
    await this.openState();
    if (!this.lifecycle.is('starting')) return;
    this.lifecycle.moveTo('joining');
    await this.loop.start();
    // The first assignment may have come while consume() was still resolving.
    if (this.lifecycle.is('joining')) this.lifecycle.moveTo('running');
    this.log.info({ input: input.topic, outputs: outputs.map((o) => o.topic), groupId }, 'stage started');
  }

  /** Finishes the batch in flight, leaves the group and closes the clients. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.lifecycle.moveTo('stopping');
    this.options.metrics.pausedPartitions.set({ stage: this.name }, 0);
    await this.loop.stop();
    endRecordSpans(this.openSpans.splice(0), NOT_COMMITTED);
    this.lifecycle.moveTo('stopped');
    this.log.info('stage stopped');
  }

  /** Each state store's changelog, created beside the input topic before the group is joined. */
  private async openState(): Promise<void> {
    const { state = [], kafka, groupId, input } = this.options;
    if (state.length === 0) return;
    const admin = kafka.admin();
    try {
      await admin.connect();
      for (const store of state) await store.open(admin, groupId, input.topic, this.log);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async process(records: readonly PartitionRecord[]): Promise<ProcessedBatch> {
    const { state = [], kafka } = this.options;
    for (const store of state) {
      // What an earlier attempt at this batch put was never committed.
      store.discardPending();
      await store.restore(
        kafka,
        records.map((record) => record.partition),
      );
    }
    // A batch taken again was not committed: its earlier attempt's spans end as failed.
    endRecordSpans(this.openSpans.splice(0), NOT_COMMITTED);
    const startedAt = performance.now();
    const batch = await this.processor.process(this.options.input.topic, records);
    this.openSpans = batch.spans;
    this.chunkSizer.observe(records.length, performance.now() - startedAt);
    for (const store of state) {
      const changes = store.pendingRecords();
      if (changes.length > 0) batch.messagesByTopic.set(store.topic, changes);
    }
    return batch;
  }

  private committed(records: readonly PartitionRecord[], batch: ProcessedBatch, durationMs: number): void {
    const { metrics, input } = this.options;
    for (const store of this.options.state ?? []) store.commitPending();
    endRecordSpans(this.openSpans.splice(0));
    const stage = { stage: this.name };
    const committedAt = Date.now();
    for (const { partition, offset, error, phase, trace } of batch.deadLettered) {
      metrics.deadLettered.inc({ ...stage, topic: input.topic, reason: error.name });
      this.log.warn(
        { topic: input.topic, partition, offset, err: error, phase, ...trace },
        'record dead-lettered',
      );
    }
    metrics.recordsIn.inc({ ...stage, topic: input.topic }, records.length);
    // Counted once a topic: a labelled inc hashes its labels each call (prom-client).
    const outputsByTopic = new Map<string, number>();
    for (const output of batch.outputs) {
      outputsByTopic.set(output.topic, (outputsByTopic.get(output.topic) ?? 0) + 1);
      if (output.originMs !== undefined) {
        metrics.endToEndLatency.observe(stage, (committedAt - output.originMs) / 1000);
      }
    }
    for (const [topic, count] of outputsByTopic) metrics.recordsOut.inc({ ...stage, topic }, count);
    metrics.batchDuration.observe(stage, durationMs / 1000);
    metrics.transactions.inc({ ...stage, outcome: 'committed' });
    metrics.lastProgress.set(stage, committedAt / 1000);
  }
}
