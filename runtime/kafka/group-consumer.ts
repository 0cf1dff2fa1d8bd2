import { setTimeout as sleep } from 'node:timers/promises';
import { FetchIsolationLevels } from '@platformatic/kafka';
import { Backoff } from '../backoff.js';
import type { StageConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { KafkaClients } from './client.js';
import { isKafkaRebalance, isTransientKafkaError } from './errors.js';
import { type BufferMessage, GroupStream, workStream } from './group-stream.js';
import { Outage } from './outage.js';
import { toPartitionRecord } from './platformatic-records.js';
import type { Assignment, ConsumedRecord } from './records.js';

/** The records of one partition fetched together, and what the consumer offers while they are worked on. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  /** The records up to this offset are done: a retry of this batch hands over only those after it. */
  markDone(offset: string): void;
  /** False once the partition was taken away (a rebalance) or the consumer stops: leave the batch. */
  isCurrent(): boolean;
  /** Records between this batch's last one and the partition's end (as last measured, at most a second ago). */
  lag(): number;
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
   * `partitionsConsumedConcurrently`), one partition's one after another. Throwing an error of
   * Kafka being away hands the records not marked done over again after a backoff; a rebalance
   * error drops the batch (the new assignment fetches from the committed offsets); any other error
   * is `onCrash`.
   */
  onBatch: (batch: PartitionBatch) => Promise<void>;
  /** A failure the consumer does not ride out by itself: the service should exit. */
  onCrash: (error: Error) => void;
}

/** Records fetched ahead of the work before the stream pauses. */
const MAX_QUEUED_RECORDS = 10_000;

/**
 * The consumer of a service that does work for its group outside transactions (a sink):
 * read_committed, offsets committed only by the service, the configured liveness settings. The
 * client heartbeats on its own timer, so a slow write never costs the membership. When Kafka is
 * away the stream is consumed again (GroupStream) and a failing batch is retried, for up to
 * `kafkaOutageMaxMs`; any other error, or a longer outage, is `onCrash`.
 */
export class GroupConsumer {
  private readonly group: GroupStream;
  private readonly queues = new Map<number, ConsumedRecord[]>();
  private readonly working = new Set<number>();
  private queued = 0;
  private generation = 0;
  private stopping = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly ends = new Map<number, bigint>();
  private endsAt = 0;

  constructor(private readonly options: GroupConsumerOptions) {
    const { settings } = options;
    this.group = new GroupStream({
      clients: options.clients,
      groupId: options.groupId,
      topics: [options.topic],
      logger: options.logger,
      ...workStream(settings),
      onJoin: (assignment) => {
        this.generation += 1;
        this.dropQueued();
        options.onAssigned(assignment);
      },
      onMessage: (message) => this.onMessage(message),
      onDropped: () => this.dropQueued(),
      onCrash: options.onCrash,
    });
  }

  /** Joins the group and starts handing over batches. */
  async run(): Promise<void> {
    await this.group.start();
  }

  /** Leaves the group (batches in flight are finished first) and disconnects. */
  async disconnect(): Promise<void> {
    this.stopping = true;
    await this.idle;
    await this.group.stop();
  }

  /** Commits a partition's offset outside any transaction (the sinks, whose writes are idempotent). */
  async commit(topic: string, partition: number, nextOffset: bigint): Promise<void> {
    await this.group.consumer.commit({
      offsets: [{ topic, partition, offset: nextOffset, leaderEpoch: -1 }],
    });
  }

  private dropQueued(): void {
    this.queues.clear();
    this.queued = 0;
  }

  private onMessage(message: BufferMessage): void {
    if (this.stopping) return;
    const queue = this.queues.get(message.partition) ?? [];
    queue.push(toPartitionRecord(message));
    this.queues.set(message.partition, queue);
    if (++this.queued >= MAX_QUEUED_RECORDS) this.group.pause();
    // After the stream's current burst of records: one batch takes them all.
    queueMicrotask(() => this.schedule());
  }

  /** Starts work on partitions with records waiting, as many at once as allowed. */
  private schedule(): void {
    for (const [partition, queue] of this.queues) {
      if (this.stopping || this.working.size >= this.options.settings.partitionsConsumedConcurrently) return;
      if (queue.length === 0 || this.working.has(partition)) continue;
      this.working.add(partition);
      const done = this.work(partition).finally(() => {
        this.working.delete(partition);
        this.schedule();
      });
      this.idle = Promise.all([this.idle, done]).then(() => undefined);
    }
  }

  /** Hands one partition's waiting records over until none wait. */
  private async work(partition: number): Promise<void> {
    for (;;) {
      const records = this.queues.get(partition);
      if (this.stopping || !records || records.length === 0) return;
      this.queues.set(partition, []);
      this.queued -= records.length;
      if (this.queued < MAX_QUEUED_RECORDS / 2) this.group.resume();
      if (!(await this.handOver(partition, records))) return;
    }
  }

  /** One batch, retried while Kafka is away; false when the partition's records are to be dropped. */
  private async handOver(partition: number, records: ConsumedRecord[]): Promise<boolean> {
    const { options } = this;
    const generation = this.generation;
    const current = () => generation === this.generation && !this.stopping;
    const backoff = new Backoff(options.settings.retryInitialMs, options.settings.retryMaxMs);
    const outage = new Outage(options.settings.kafkaOutageMaxMs);
    let remaining = records;
    while (current() && remaining.length > 0) {
      let doneUpTo = -1n;
      const last = BigInt(remaining.at(-1)!.offset);
      try {
        await options.onBatch({
          topic: options.topic,
          partition,
          records: remaining,
          markDone: (offset) => {
            doneUpTo = BigInt(offset);
          },
          isCurrent: current,
          lag: () => this.lagAfter(partition, last),
        });
        return current();
      } catch (error) {
        if (!current() || isKafkaRebalance(error)) return false;
        if (!isTransientKafkaError(error)) {
          options.onCrash(error as Error);
          return false;
        }
        if (outage.tooLong()) {
          options.logger.error({ err: error }, 'Kafka unreachable for too long');
          options.onCrash(error as Error);
          return false;
        }
        const delay = backoff.next();
        options.logger.warn(
          { err: error, partition, retryInMs: delay },
          'Kafka unreachable; the batch is retried',
        );
        remaining = remaining.filter((record) => BigInt(record.offset) > doneUpTo);
        await sleep(delay);
      }
    }
    return current();
  }

  /** Records of a partition after an offset, from its end as measured at most a second ago. */
  private lagAfter(partition: number, offset: bigint): number {
    if (Date.now() - this.endsAt > 1000) {
      this.endsAt = Date.now();
      void this.group.consumer
        .listOffsets({ topics: [this.options.topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })
        .then((offsets) => {
          for (const [p, end] of (offsets.get(this.options.topic) ?? []).entries()) this.ends.set(p, end);
        })
        .catch(() => undefined);
    }
    const end = this.ends.get(partition);
    return end === undefined || end <= offset + 1n ? 0 : Number(end - offset - 1n);
  }
}
