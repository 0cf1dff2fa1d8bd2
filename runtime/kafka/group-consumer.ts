import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { StageConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { type KafkaClients, kafkajsOf } from './client.js';
import { isTransientKafkaError } from './errors.js';
import type { Assignment, ConsumedRecord } from './records.js';

/** The records of one partition fetched together, and what the consumer offers while they are worked on. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  /** The records up to this offset are done: a fetch after a retry of this batch starts past them. */
  markDone(offset: string): void;
  /** False once the partition was taken away (a rebalance) or the consumer stops: leave the batch. */
  isCurrent(): boolean;
  /** Tells the group this member is alive; throws when the group is rebalancing. */
  heartbeat(): Promise<void>;
  /** Records between this batch's last one and the partition's end. */
  lag(): number;
}

/** A commit while the consumer rejoins its group after an outage: retry once it is back. */
export class ConsumerRejoiningError extends Error {
  override readonly name = 'ConsumerRejoiningError';
  readonly retriable = true;

  constructor(cause: unknown) {
    super('the consumer is rejoining its group after a Kafka outage', { cause });
  }
}

export interface GroupConsumerOptions {
  clients: KafkaClients;
  groupId: string;
  topic: string;
  settings: StageConfig;
  logger: Logger;
  /** After each join of the group, with the partitions this member owns now. */
  onAssigned: (assigned: Assignment) => void;
  /**
   * One partition's batch; batches of different partitions may be worked on at once (up to
   * `partitionsConsumedConcurrently`). Throwing makes the consumer fetch the batch's records not
   * marked done again; a rebalance error (isKafkaRebalance) must be rethrown.
   */
  onBatch: (batch: PartitionBatch) => Promise<void>;
  /** A failure the consumer does not ride out by itself: the service should exit. */
  onCrash: (error: Error) => void;
}

/**
 * The consumer of a service that does work for its group (a stage, a sink): read_committed, offsets
 * committed only by the service, the configured liveness settings. When Kafka is away (a broker
 * down, a leader election) it restarts itself in-process: reconnects, rejoins its group and goes on
 * from the committed offsets, for up to `kafkaOutageMaxMs` from the first failure (the services
 * used to exit and rely on a supervisor). Any other error, or a longer outage, is `onCrash`.
 */
export class GroupConsumer {
  private readonly consumer: Consumer;
  private outageSince: number | undefined;

  constructor(private readonly options: GroupConsumerOptions) {
    const { settings } = options;
    this.consumer = kafkajsOf(options.clients).consumer({
      groupId: options.groupId,
      readUncommitted: false,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(60_000, settings.sessionTimeoutMs),
      retry: {
        retries: 8,
        restartOnFailure: async (error) => {
          if (!isTransientKafkaError(error)) return false;
          this.outageSince ??= Date.now();
          return Date.now() - this.outageSince < settings.kafkaOutageMaxMs;
        },
      },
    });
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => {
      // Back in its group: any outage is over.
      this.outageSince = undefined;
      options.onAssigned(event.payload.memberAssignment as Assignment);
    });
    this.consumer.on(CRASH, (event) => {
      const { error, restart } = event.payload;
      if (restart) {
        options.logger.warn({ err: error }, 'Kafka unreachable; the consumer restarts and rejoins its group');
        return;
      }
      options.logger.error({ err: error }, 'consumer crashed');
      options.onCrash(error);
    });
  }

  /** Connects and subscribes; the group is joined by run(). */
  async connect(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
  }

  /** Joins the group and starts handing over batches. */
  async run(): Promise<void> {
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.settings.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Leaves the group (a batch in flight is finished first) and disconnects. */
  async disconnect(): Promise<void> {
    await this.consumer.disconnect();
  }

  /** Stops fetching a partition until resume(). */
  pause(topic: string, partition: number): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
  }

  resume(topic: string, partition: number): void {
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  /** Commits a partition's offset outside any transaction (the sinks, whose writes are idempotent). */
  async commit(topic: string, partition: number, nextOffset: bigint): Promise<void> {
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: nextOffset.toString() }]);
    } catch (error) {
      // Between the crash of an outage and the next join, kafkajs refuses commits with a
      // non-retriable error; the outage is what it is about (the chaos suite's broker restart: a
      // sink's timed flush landed there and the sink exited).
      if ((error as Error).message?.startsWith('Consumer group was not initialized')) {
        throw new ConsumerRejoiningError(error);
      }
      throw error;
    }
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    // kafkajs heartbeats only between batches: keep the membership alive while a slow engine or an
    // upload works, or the group would evict this member mid-batch and the batch would start over.
    const keepAlive = setInterval(
      () => void heartbeat().catch(() => undefined),
      this.options.settings.heartbeatIntervalMs,
    );
    try {
      await this.options.onBatch({
        topic: batch.topic,
        partition: batch.partition,
        records: batch.messages,
        markDone: resolveOffset,
        isCurrent: () => isRunning() && !isStale(),
        heartbeat,
        lag: () => Number(batch.offsetLag()),
      });
    } finally {
      clearInterval(keepAlive);
    }
  }
}
