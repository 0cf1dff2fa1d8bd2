import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../logger.js';
import { type KafkaClients, kafkajsOf } from './client.js';
import type { RecordsByTopic } from './records.js';

export interface PartitionProducersOptions {
  /** Unique per stage (its consumer group): transactional ids are `<prefix>-<topic>-<partition>`. */
  transactionalIdPrefix: string;
  transactionTimeoutMs: number;
  logger: Logger;
}

/**
 * One transactional producer per input partition, with a transactional id derived from the
 * partition. Whoever processes a partition next (a restarted process, or another instance after a
 * rebalance) initialises the same id, which fences any zombie still holding it and makes the broker
 * finish (commit or abort) that zombie's open transaction before the new owner starts. kafkajs does
 * not send consumer-group metadata with offsets (KIP-447), so this per-partition scheme is what
 * fences here.
 */
export class PartitionProducers {
  private readonly producers = new Map<string, Promise<Producer>>();
  private readonly kafka: Kafka;

  constructor(
    clients: KafkaClients,
    private readonly options: PartitionProducersOptions,
  ) {
    this.kafka = kafkajsOf(clients);
  }

  static key(topic: string, partition: number): string {
    return `${topic}:${partition}`;
  }

  transactionalId(topic: string, partition: number): string {
    return `${this.options.transactionalIdPrefix}-${topic}-${partition}`;
  }

  /**
   * Initialises the partition's producer if it is not yet: fences any earlier owner and waits for
   * its open transaction to complete.
   */
  async ready(topic: string, partition: number): Promise<void> {
    await this.get(topic, partition);
  }

  /**
   * One transaction on the partition's producer: the records, then the consumed offset of the
   * input partition for the group, then the commit. On any failure the transaction is aborted, the
   * producer discarded (its state is unknown, and the commit may even have gone through) and the
   * error rethrown: the caller re-reads the committed offset before consuming the partition again.
   */
  async commit(
    topic: string,
    partition: number,
    records: RecordsByTopic,
    consumed: { groupId: string; nextOffset: bigint },
  ): Promise<void> {
    const producer = await this.get(topic, partition);
    const transaction = await producer.transaction();
    try {
      if (records.size > 0) {
        await transaction.sendBatch({
          topicMessages: [...records].map(([outputTopic, messages]) => ({ topic: outputTopic, messages })),
        });
      }
      await transaction.sendOffsets({
        consumerGroupId: consumed.groupId,
        topics: [{ topic, partitions: [{ partition, offset: consumed.nextOffset.toString() }] }],
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      await this.discard(topic, partition);
      throw error;
    }
  }

  /** The ready producer of a partition; the first call initialises it (which may fence others). */
  private get(topic: string, partition: number): Promise<Producer> {
    const key = PartitionProducers.key(topic, partition);
    let producer = this.producers.get(key);
    if (!producer) {
      producer = this.create(topic, partition);
      this.producers.set(key, producer);
      // A failed initialisation must not stay cached: the next call tries afresh.
      producer.catch(() => {
        if (this.producers.get(key) === producer) this.producers.delete(key);
      });
    }
    return producer;
  }

  /** Drops a producer whose state is unknown (failed transaction, fenced); the next get() re-creates it. */
  async discard(topic: string, partition: number): Promise<void> {
    const key = PartitionProducers.key(topic, partition);
    const producer = this.producers.get(key);
    this.producers.delete(key);
    await this.disconnect(producer);
  }

  /** Closes the producers of partitions this instance no longer owns. */
  async retainOnly(owned: ReadonlySet<string>): Promise<void> {
    const stale = [...this.producers.keys()].filter((key) => !owned.has(key));
    await Promise.all(
      stale.map((key) => {
        const producer = this.producers.get(key);
        this.producers.delete(key);
        return this.disconnect(producer);
      }),
    );
  }

  async closeAll(): Promise<void> {
    await this.retainOnly(new Set());
  }

  get size(): number {
    return this.producers.size;
  }

  private async create(topic: string, partition: number): Promise<Producer> {
    const transactionalId = this.transactionalId(topic, partition);
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs,
      // Java-compatible murmur2, so keys land on the partitions Java clients would pick.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded: a failed transaction is aborted and its producer discarded, so a send that gives up
      // can never leave a gap in a live sequence. Unbounded retries would hang the batch instead.
      // Starting small matters: right after a commit the coordinator briefly answers
      // CONCURRENT_TRANSACTIONS while it writes the markers, and a 300 ms first wait would stall
      // every following transaction.
      retry: { retries: 10, initialRetryTime: 20, maxRetryTime: 5_000 },
    });
    await producer.connect();
    // The transactional id is initialised by the first transaction() call; doing it here, up front,
    // fences zombies and completes their pending transaction before we read committed offsets.
    const transaction = await producer.transaction();
    await transaction.abort();
    this.options.logger.debug({ transactionalId }, 'transactional producer ready');
    return producer;
  }

  private async disconnect(producer: Promise<Producer> | undefined): Promise<void> {
    if (!producer) return;
    try {
      await (await producer).disconnect();
    } catch {
      // A producer that failed to start or lost its connection has nothing left to close.
    }
  }
}
