import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, FetchIsolationLevels, type Message, type Producer } from '@platformatic/kafka';
import { Backoff } from '../backoff.js';
import type { StageConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { KafkaClients } from './client.js';
import { isFencingError } from './errors.js';
import { type BufferMessage, GroupStream, workStream } from './group-stream.js';
import { toPartitionRecord, toProduce } from './platformatic-records.js';
import type { Assignment, PartitionRecord, RecordsByTopic } from './records.js';
import { splitBySize, type TopicRecords } from './request-size.js';
import { initTransactions, transactionalProducer } from './transactional-producer.js';
import type { UnreadableBatch } from './unreadable-batches.js';

/** What the loop tells its owner (metrics, logs of its own); every member optional. */
export interface ExactlyOnceLoopObserver<Made> {
  assigned?(assignment: Assignment): void;
  /** A transaction committed: the batch's records (all partitions), what `process` made of them, how long it took in all. */
  committed?(records: readonly PartitionRecord[], made: Made, durationMs: number): void;
  /** A transaction failed and was aborted; `fenced` when another member or producer took over. */
  aborted?(error: unknown, fenced: boolean): void;
  /** A batch waits before it is handed over again (an engine down, a failed transaction). */
  retrying?(error: unknown, delayMs: number, attempt: number): void;
  /** How many partitions' records are held back by a waiting batch (0 once it goes on). */
  held?(partitions: number): void;
  /** Records of a partition not yet committed by this member. */
  lag?(partition: number, records: number): void;
  /** A partition's next batch cannot be read; KAFKA_UNREADABLE_BATCH's policy was applied. */
  unreadable?(batch: UnreadableBatch): void;
}

export interface ExactlyOnceLoopOptions<Made extends { messagesByTopic: RecordsByTopic }> {
  clients: KafkaClients;
  groupId: string;
  topic: string;
  settings: StageConfig;
  logger: Logger;
  /** A bounded run (replay): per partition, the offset to stop before; later records are left alone. */
  endOffsets?: ReadonlyMap<number, bigint>;
  /** Most records the next batch takes (the stage's engine-paced chunk size). */
  batchSize: () => number;
  /**
   * What a batch writes (`messagesByTopic`), with whatever else the caller wants back once it is
   * committed. Throwing hands the same batch over again after a backoff (a dependency that is
   * down); records that cannot be processed are the processor's to dead-letter.
   */
  process: (records: readonly PartitionRecord[]) => Promise<Made>;
  observer?: ExactlyOnceLoopObserver<Made>;
  /** A failure the loop does not ride out (Kafka away for longer than kafkaOutageMaxMs). */
  onCrash: (error: Error) => void;
}

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

/** What `Transaction.addOffset` reads of a consumed message (clients/producer/producer.js, its TxnOffsetCommit). */
type OffsetPosition = Pick<Message, 'topic' | 'partition' | 'offset' | 'metadata'>;

/**
 * A record waiting for its batch, with the group generation it was fetched in (the fetch's shared
 * `metadata`, for its offset's TxnOffsetCommit). Not the client's message: its headers Map, header
 * entries, bound commit function and BigInts would live until the batch commits, and every
 * young-generation collection in between copies them. `bench runtime --only a`, three rounds taking
 * turns: a hop 16.0, 15.3 and 13.0 µs a row with the messages kept, 12.3, 12.0 and 12.3 without.
 */
interface Pending {
  record: PartitionRecord;
  metadata: Message['metadata'];
}

/**
 * Consume (read_committed) → process a batch → write its outputs and its consumed offsets in one
 * Kafka transaction, over every partition this member owns (KIP-447): one transactional producer per
 * member, the offsets sent with the group's generation and member id, so a zombie of an older
 * generation is refused by the group coordinator. Nothing is committed that was not written and
 * nothing is written twice: a batch whose transaction fails is aborted and handed over again.
 *
 * - **Batches.** Records are taken as they arrive; while a transaction is in flight the next ones
 *   gather, up to `batchSize()`, and the stream pauses beyond that.
 * - **Where a partition starts.** The client fetches a new assignment's committed offsets without
 *   `require_stable` (a transaction of the previous owner may still be committing), so before the
 *   first batch of each partition after a join or a failed transaction the loop re-reads its offset
 *   with `require_stable` (admin OffsetFetch, KIP-447) and drops what is already committed.
 * - **Transactional id.** `<group>-<topic>-<lowest owned partition>`: stable across a restart of a
 *   member that gets its partitions back, so the restarted producer's initialisation aborts the
 *   transaction its killed predecessor left open at once, instead of after the transaction timeout.
 * - **Kafka away.** The stream is consumed again after a backoff, for up to `kafkaOutageMaxMs`.
 */
export class ExactlyOnceLoop<Made extends { messagesByTopic: RecordsByTopic }> {
  private readonly group: GroupStream;
  private readonly admin: Admin;
  private readonly log: Logger;
  private producer: { id: string; client: Producer; ready: Promise<void> } | undefined;
  private pending: Pending[] = [];
  private owned: number[] = [];
  /** Partitions whose committed offset must be re-read before their next batch. */
  private readonly unverified = new Set<number>();
  /** Bumped on every join: a batch taken in an older generation is not committed. */
  private generation = 0;
  private busy = false;
  private stopping = false;
  private readonly backoff: Backoff;
  private idle: (() => void) | undefined;
  private lagCheckedAt = 0;

  constructor(private readonly options: ExactlyOnceLoopOptions<Made>) {
    const { clients, settings, groupId } = options;
    this.log = options.logger;
    this.backoff = new Backoff(settings.retryInitialMs, settings.retryMaxMs);
    this.group = new GroupStream({
      clients,
      groupId,
      topics: [options.topic],
      logger: this.log,
      ...workStream(settings),
      onJoin: (assignment) => this.onJoin(assignment[options.topic] ?? []),
      onMessage: (message) => this.onMessage(message),
      onDropped: () => {
        this.pending = [];
        for (const partition of this.owned) this.unverified.add(partition);
      },
      onUnreadable: (batch) => options.observer?.unreadable?.(batch),
      onCrash: options.onCrash,
    });
    this.admin = new Admin(clients.options(`${groupId}-offsets`));
  }

  /** Joins the group and starts consuming; resolves once the first assignment is in. */
  async start(): Promise<void> {
    await this.group.start();
  }

  /** Partitions held because their next batch cannot be read (KAFKA_UNREADABLE_BATCH=hold). */
  heldPartitions(): UnreadableBatch[] {
    return this.group.consumer.heldPartitions();
  }

  /** Finishes the batch in flight, leaves the group and closes the clients. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.busy) await new Promise<void>((resolve) => (this.idle = resolve));
    await this.group.stop();
    await this.closeProducer();
    await this.admin.close().catch(() => undefined);
  }

  private onJoin(owned: number[]): void {
    this.owned = owned;
    this.generation += 1;
    // What was gathered is dropped (the group stream reads it anew from the committed offsets),
    // and every partition's start is re-read with require_stable before it is used.
    this.pending = [];
    this.unverified.clear();
    for (const partition of this.owned) this.unverified.add(partition);
    this.options.observer?.assigned?.({ [this.options.topic]: this.owned });
    // The producer for the new lowest partition, initialised now rather than by the first batch: it
    // completes a killed predecessor's open transaction before any record arrives.
    if (this.owned.length > 0) void this.producerFor(this.transactionalId()).catch(() => undefined);
  }

  private onMessage(message: BufferMessage): void {
    if (this.stopping) return;
    this.pending.push({ record: toPartitionRecord(message), metadata: message.metadata });
    if (this.pending.length >= this.options.batchSize()) this.group.pause();
    void this.drain();
  }

  /** Runs batches one after another while records wait. */
  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.stopping && this.pending.length > 0) {
        const batch = this.pending.splice(0, this.options.batchSize());
        if (this.pending.length < this.options.batchSize()) this.group.resume();
        await this.runBatch(batch);
      }
    } finally {
      this.busy = false;
      this.idle?.();
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const generation = this.generation;
    const current = () => generation === this.generation && !this.stopping;
    for (let attempt = 1; current(); attempt++) {
      const startedAt = performance.now();
      let committing = false;
      try {
        batch = await this.uncommitted(batch);
        if (!current() || batch.length === 0) return;
        const records = batch.map((entry) => entry.record);
        const made = await this.options.process(records);
        if (!current()) return;
        committing = true;
        await this.commit(batch, made.messagesByTopic);
        await this.reportLag();
        this.options.observer?.committed?.(records, made, performance.now() - startedAt);
        this.log.debug(
          {
            records: records.length,
            ms: Math.round(performance.now() - startedAt),
            waiting: this.pending.length,
          },
          'transaction committed',
        );
        this.backoff.reset();
        this.options.observer?.held?.(0);
        return;
      } catch (error) {
        if (!current()) return;
        const delay = this.backoff.next();
        this.options.observer?.retrying?.(error, delay, attempt);
        this.log.warn(
          { err: error, retryInMs: delay, attempt, records: batch.length, committing },
          'batch not committed; will retry',
        );
        if (committing) {
          // The records carry the group's coordinator and generation as they were when fetched: a
          // broker restart or a rebalance makes them stale for good (the chaos suite's broker
          // restart: TxnOffsetCommit asked for a coordinator the metadata no longer had, 13 times a
          // batch). Fetch them anew from the committed offsets, re-read where the partitions stand.
          void this.group.restart(delay);
          return;
        }
        // An engine or the registry down: the same batch once more after the backoff.
        this.options.observer?.held?.(new Set(batch.map((entry) => entry.record.partition)).size);
        await sleep(delay);
      }
    }
  }

  /**
   * The batch without records already committed (by an earlier owner, or by this member's own
   * transaction that failed after the commit), nor records at or past a bounded run's end.
   */
  private async uncommitted(batch: Pending[]): Promise<Pending[]> {
    const toVerify = [...new Set(batch.map((entry) => entry.record.partition))].filter((p) =>
      this.unverified.has(p),
    );
    const committed = new Map<number, bigint>();
    if (toVerify.length > 0) {
      const [group] = await this.admin.listConsumerGroupOffsets({
        groups: [
          {
            groupId: this.options.groupId,
            topics: [{ name: this.options.topic, partitionIndexes: toVerify }],
          },
        ],
        requireStable: true,
      });
      for (const topic of group?.topics ?? []) {
        for (const partition of topic.partitions)
          committed.set(partition.partitionIndex, partition.committedOffset);
      }
      for (const partition of toVerify) this.unverified.delete(partition);
    }
    const end = this.options.endOffsets;
    if (committed.size === 0 && !end) return batch;
    const kept = batch.filter(({ record }) => {
      const offset = BigInt(record.offset);
      const from = committed.get(record.partition);
      if (from !== undefined && from >= 0n && offset < from) return false;
      const stop = end?.get(record.partition);
      return stop === undefined || offset < stop;
    });
    const skipped = batch.length - kept.length;
    if (skipped > 0 && committed.size > 0) {
      this.log.info(
        { skipped, committed: Object.fromEntries([...committed].map(([p, o]) => [p, String(o)])) },
        'skipping records already committed',
      );
    }
    return kept;
  }

  private async commit(batch: Pending[], outputs: RecordsByTopic): Promise<void> {
    const producer = await this.producerFor(this.transactionalId());
    let transaction: Transaction | undefined;
    try {
      transaction = await producer.beginTransaction();
      await transaction.addConsumer(this.group.consumer);
      const sends: TopicRecords[] = [...outputs].map(([topic, messages]) => ({ topic, messages }));
      for (const request of splitBySize(sends, this.options.clients.config.maxRequestBytes)) {
        await transaction.send({
          messages: request.flatMap(({ topic, messages }) => messages.map((m) => toProduce(topic, m))),
        });
      }
      // One offset per partition: the batch's last record of it. One after another: the client
      // deduplicates concurrent addOffset calls under one key, so an overlapping call would get the
      // first one's answer and its offset would never be sent (clients/producer/producer.js).
      const last = new Map<number, Pending>();
      for (const entry of batch) last.set(entry.record.partition, entry);
      for (const { record, metadata } of last.values()) {
        const position: OffsetPosition = {
          topic: this.options.topic,
          partition: record.partition,
          offset: BigInt(record.offset),
          metadata,
        };
        await transaction.addOffset(position as Message);
      }
      await transaction.commit();
    } catch (error) {
      const fenced = isFencingError(error);
      this.options.observer?.aborted?.(error, fenced);
      await transaction?.abort().catch(() => undefined);
      // Its state is unknown: the next transaction starts on a fresh producer, whose initialisation
      // also completes whatever this one left open.
      await this.closeProducer();
      throw error;
    }
  }

  private transactionalId(): string {
    return `${this.options.groupId}-${this.options.topic}-${this.owned[0] ?? 0}`;
  }

  /** The producer with this transactional id, initialised (which fences its earlier holders). */
  private async producerFor(id: string): Promise<Producer> {
    if (this.producer?.id !== id) {
      // Closed without waiting: the new one must be in place before anything else asks for it.
      void this.closeProducer();
      const { clients, settings } = this.options;
      const client = transactionalProducer(clients, id, settings.transactionTimeoutMs);
      const ready = initTransactions(client);
      this.producer = { id, client, ready };
      ready.catch(() => {
        if (this.producer?.client === client) this.producer = undefined;
        void client.close(true).catch(() => undefined);
      });
    }
    const { client, ready } = this.producer!;
    await ready;
    return client;
  }

  private async closeProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.client.close(true).catch(() => undefined);
  }

  /**
   * Records each owned partition still has to go (a ListOffsets request): after every batch that
   * leaves nothing waiting, so a stage that caught up reports 0 with its last batch, and otherwise
   * at most once a second.
   */
  private async reportLag(): Promise<void> {
    const observer = this.options.observer;
    if (!observer?.lag || !this.group.current()) return;
    const now = Date.now();
    if (this.pending.length > 0 && now - this.lagCheckedAt < 1000) return;
    this.lagCheckedAt = now;
    const inMemory = new Map<number, number>();
    for (const { record } of this.pending)
      inMemory.set(record.partition, (inMemory.get(record.partition) ?? 0) + 1);
    await this.group.consumer
      .listOffsets({ topics: [this.options.topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })
      .then((offsets) => {
        const ends = offsets.get(this.options.topic) ?? [];
        for (const partition of this.owned) {
          const end = ends[partition];
          const fetched = this.group.nextOffset(this.options.topic, partition);
          if (end === undefined || fetched === undefined) continue;
          const behind = end > fetched ? Number(end - fetched) : 0;
          observer.lag?.(partition, behind + (inMemory.get(partition) ?? 0));
        }
      })
      .catch(() => undefined);
  }
}
