import type { KafkaAdmin } from '../kafka/admin.js';
import type { KafkaClients } from '../kafka/client.js';
import type { OutgoingRecord } from '../kafka/records.js';
import { scanSpans } from '../kafka/topic-range-reader.js';
import { durabilityFor, ensureTopics } from '../kafka/topics.js';
import type { Logger } from '../logger.js';

/**
 * State a stage handler keeps per key of its input (a stream's), by the input partition the key's
 * records come from. What a batch puts is read back by the same batch and kept once its
 * transaction commits.
 */
export interface KeyedState<V> {
  get(partition: number, key: string): V | undefined;
  put(partition: number, key: string, value: V): void;
}

/** Keyed state that lives as long as the process (a replay, the CLI, a test). */
export class InMemoryState<V> implements KeyedState<V> {
  private readonly values = new Map<string, V>();

  get(partition: number, key: string): V | undefined {
    return this.values.get(`${partition}\u0000${key}`);
  }

  put(partition: number, key: string, value: V): void {
    this.values.set(`${partition}\u0000${key}`, value);
  }
}

/**
 * Keyed state backed by a compacted changelog topic, as a Kafka Streams state store is: every put
 * is written to the changelog in the stage's own transaction, to the partition of the input record
 * it came from, so the state and the consumed offsets commit or abort together. After a join the
 * stage restores each owned partition from its changelog before that partition's first batch:
 * a restarted or rebalanced instance carries on with exactly the state the committed offsets
 * imply, never a newer or older one. Values are JSON (the state is the stage's own, not an event).
 *
 * The changelog (`<group>-<name>-changelog`, Kafka Streams' naming) is created by the stage at
 * start with its input topic's partition count, compacted and kept forever: one record per key.
 */
export class ChangelogState<V> implements KeyedState<V> {
  private readonly committed = new Map<number, Map<string, V>>();
  private pending = new Map<number, Map<string, V>>();
  /** Owned partitions whose changelog has been read since the last join. */
  private readonly restored = new Set<number>();
  private topicName: string | undefined;

  constructor(readonly name: string) {}

  /** The changelog topic; set when the stage opens the store. */
  get topic(): string {
    if (!this.topicName) throw new Error(`state ${this.name} is not open`);
    return this.topicName;
  }

  /** Creates (or grows) the changelog beside the stage's input topic. */
  async open(admin: KafkaAdmin, groupId: string, inputTopic: string, logger: Logger): Promise<void> {
    const topic = `${groupId}-${this.name}-changelog`;
    const [{ brokers }, metadata] = await Promise.all([
      admin.describeCluster(),
      admin.fetchTopicMetadata({ topics: [inputTopic] }),
    ]);
    const partitions = metadata.topics.find((t) => t.name === inputTopic)?.partitions.length ?? 0;
    if (partitions === 0) throw new Error(`input topic ${inputTopic} has no partitions`);
    const { replicationFactor, minInsyncReplicas } = durabilityFor(brokers.length);
    await ensureTopics(
      admin,
      [
        {
          name: topic,
          partitions,
          replicationFactor,
          config: {
            'cleanup.policy': 'compact',
            'retention.ms': '-1',
            'min.insync.replicas': String(minInsyncReplicas),
          },
        },
      ],
      logger,
    );
    this.topicName = topic;
  }

  get(partition: number, key: string): V | undefined {
    const pending = this.pending.get(partition);
    if (pending?.has(key)) return pending.get(key);
    return this.committed.get(partition)?.get(key);
  }

  put(partition: number, key: string, value: V): void {
    partitionMap(this.pending, partition).set(key, value);
  }

  /** A new assignment: partitions no longer owned are forgotten, every owned one is read anew. */
  assigned(partitions: readonly number[]): void {
    const owned = new Set(partitions);
    for (const partition of [...this.committed.keys()])
      if (!owned.has(partition)) this.committed.delete(partition);
    this.restored.clear();
    this.pending.clear();
  }

  /** Reads the changelog of the partitions not yet restored since the last join (read_committed). */
  async restore(kafka: KafkaClients, partitions: Iterable<number>): Promise<void> {
    const missing = [...new Set(partitions)].filter((partition) => !this.restored.has(partition));
    if (missing.length === 0) return;
    const admin = kafka.admin();
    let ends: Awaited<ReturnType<KafkaAdmin['fetchTopicOffsets']>>;
    try {
      await admin.connect();
      // To the log's end, read_committed: a transaction a killed owner left open is waited out (the
      // coordinator aborts it at its timeout, or at once when a producer with its id starts), as
      // Kafka Streams' restore does. Stopping at the last stable offset instead would miss what
      // this partition's later owners committed after it.
      ends = await admin.fetchTopicOffsets(this.topic, { logEnd: true });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const spans = missing.map((partition) => {
      const end = ends.find((entry) => entry.partition === partition);
      return { partition, from: BigInt(end?.low ?? '0'), to: BigInt(end?.high ?? '0') };
    });
    const read = new Map<number, Map<string, V>>(missing.map((partition) => [partition, new Map()]));
    await scanSpans(kafka, this.topic, spans, (partition, record) => {
      const key = record.key?.toString();
      if (key === undefined) return;
      const values = read.get(partition)!;
      if (record.value === null || record.value.length === 0) values.delete(key);
      else values.set(key, JSON.parse(record.value.toString()) as V);
    });
    for (const [partition, values] of read) {
      this.committed.set(partition, values);
      this.restored.add(partition);
    }
  }

  /** Drops what an unfinished batch put: its transaction did not commit, it will be processed again. */
  discardPending(): void {
    this.pending.clear();
  }

  /** The changelog records of this batch's puts, for its transaction. */
  pendingRecords(): OutgoingRecord[] {
    const records: OutgoingRecord[] = [];
    for (const [partition, values] of this.pending)
      for (const [key, value] of values) records.push({ partition, key, value: JSON.stringify(value) });
    return records;
  }

  /** The batch's transaction committed: its puts are the state now. */
  commitPending(): void {
    for (const [partition, values] of this.pending) {
      const current = partitionMap(this.committed, partition);
      for (const [key, value] of values) current.set(key, value);
    }
    this.pending = new Map();
  }
}

function partitionMap<V>(byPartition: Map<number, Map<string, V>>, partition: number): Map<string, V> {
  const existing = byPartition.get(partition);
  if (existing) return existing;
  const created = new Map<string, V>();
  byPartition.set(partition, created);
  return created;
}
