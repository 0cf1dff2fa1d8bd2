import {
  Admin,
  type BaseOptions,
  FetchIsolationLevels,
  type FetchIsolationLevelValue,
} from '@platformatic/kafka';
import type { KafkaAdmin, NewTopic, TopicPartitionOffsets } from './admin.js';
import { hasErrorType } from './errors.js';
import type { PartitionOffset } from './records.js';
import { untilLeadersElected } from './topics.js';

/** ListOffsets' special timestamps: the partition's end and its start. */
const LATEST = -1n;
const EARLIEST = -2n;

/**
 * The product's admin calls (KafkaAdmin) over @platformatic/kafka's Admin. It connects on first
 * use, so connect() only marks it in use; disconnect() closes its connections.
 */
export class PlatformaticAdmin implements KafkaAdmin {
  private readonly admin: Admin;

  constructor(options: BaseOptions) {
    this.admin = new Admin(options);
  }

  async connect(): Promise<void> {
    // Fails here, as a connect should, when no broker answers.
    await this.admin.metadata({ topics: [] });
  }

  async disconnect(): Promise<void> {
    await this.admin.close();
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  /** True when any topic was created; one that exists already is left alone. */
  async createTopics(options: { topics: NewTopic[]; waitForLeaders?: boolean }): Promise<boolean> {
    let created = false;
    // One request a topic: the client sends one set of configs for all the topics of a request.
    for (const topic of options.topics) {
      try {
        await this.admin.createTopics({
          topics: [topic.topic],
          partitions: topic.numPartitions ?? -1,
          replicas: topic.replicationFactor ?? -1,
          configs: topic.configEntries ?? [],
        });
        created = true;
      } catch (error) {
        if (!hasErrorType(error, 'TOPIC_ALREADY_EXISTS')) throw error;
      }
    }
    if (options.waitForLeaders !== false)
      await untilLeadersElected(
        this,
        options.topics.map((t) => t.topic),
        30_000,
      );
    return created;
  }

  async createPartitions(options: {
    topicPartitions: Array<{ topic: string; count: number }>;
  }): Promise<boolean> {
    await this.admin.createPartitions({
      topics: options.topicPartitions.map(({ topic, count }) => ({ name: topic, count })),
    });
    return true;
  }

  async fetchTopicMetadata(options?: { topics: string[] }) {
    const topics = options?.topics ?? (await this.listTopics());
    const metadata = await this.admin.metadata({ topics, forceUpdate: true });
    return {
      topics: topics.flatMap((name) => {
        const topic = metadata.topics.get(name);
        if (!topic) return [];
        return [
          {
            name,
            partitions: topic.partitions.map((p, partitionId) => ({
              partitionId,
              leader: p.leader,
              replicas: p.replicas,
              isr: p.isr,
            })),
          },
        ];
      }),
    };
  }

  private async partitionsOf(topic: string): Promise<number[]> {
    const metadata = await this.admin.metadata({ topics: [topic] });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    return Array.from({ length: count }, (_, partition) => partition);
  }

  /** Each partition's offset for a timestamp (or LATEST / EARLIEST); -1 where no record is that late. */
  private async offsetsAt(
    topic: string,
    timestamp: bigint,
    isolationLevel: FetchIsolationLevelValue = FetchIsolationLevels.READ_COMMITTED,
  ): Promise<Map<number, bigint>> {
    const partitions = await this.partitionsOf(topic);
    const [listed] = await this.admin.listOffsets({
      topics: [
        { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
      ],
      // By default the end a read_committed reader can reach: past an open transaction it would wait.
      isolationLevel,
    });
    return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
  }

  /**
   * `logEnd`: the log's end (the high watermark) instead of the last stable offset, for a reader
   * that must wait out open transactions rather than stop before them (a state store's restore).
   */
  async fetchTopicOffsets(
    topic: string,
    options: { logEnd?: boolean } = {},
  ): Promise<TopicPartitionOffsets[]> {
    const [ends, starts] = await Promise.all([
      this.offsetsAt(
        topic,
        LATEST,
        options.logEnd ? FetchIsolationLevels.READ_UNCOMMITTED : FetchIsolationLevels.READ_COMMITTED,
      ),
      this.offsetsAt(topic, EARLIEST),
    ]);
    return [...ends].map(([partition, high]) => ({
      partition,
      offset: String(high),
      high: String(high),
      low: String(starts.get(partition) ?? 0n),
    }));
  }

  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<PartitionOffset[]> {
    const ends = await this.offsetsAt(topic, LATEST);
    if (timestamp === undefined)
      return [...ends].map(([partition, offset]) => ({ partition, offset: String(offset) }));
    const at = await this.offsetsAt(topic, BigInt(timestamp));
    return [...ends].map(([partition, end]) => {
      const offset = at.get(partition) ?? -1n;
      return { partition, offset: String(offset < 0n ? end : offset) };
    });
  }

  async fetchOffsets(options: { groupId: string; topics?: string[] }) {
    const topics = options.topics ?? [];
    const [group] = await this.admin.listConsumerGroupOffsets({
      groups: [
        {
          groupId: options.groupId,
          topics: await Promise.all(
            topics.map(async (name) => ({ name, partitionIndexes: await this.partitionsOf(name) })),
          ),
        },
      ],
      // What is committed now, a transaction's pending offsets aside (KIP-447's require_stable is the
      // stage loop's own business: here it would wait out every open transaction of a busy stage).
      requireStable: false,
    });
    return topics.map((topic) => {
      const found = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
      return {
        topic,
        partitions: found.map((p) => ({ partition: p.partitionIndex, offset: String(p.committedOffset) })),
      };
    });
  }

  async setOffsets(options: {
    groupId: string;
    topic: string;
    partitions: PartitionOffset[];
  }): Promise<void> {
    await this.admin.alterConsumerGroupOffsets({
      groupId: options.groupId,
      topics: [
        {
          name: options.topic,
          partitionOffsets: options.partitions.map((p) => ({
            partition: p.partition,
            offset: BigInt(p.offset),
          })),
        },
      ],
    });
  }

  async listGroups() {
    const groups = await this.admin.listGroups();
    return { groups: [...groups.values()].map((g) => ({ groupId: g.id, protocolType: g.protocolType })) };
  }

  async describeGroups(groupIds: string[]) {
    const groups = await this.admin.describeGroups({ groups: groupIds });
    return {
      groups: [...groups.values()].map((g) => ({
        groupId: g.id,
        state: g.state,
        members: [...g.members.values()].map((m) => ({ memberId: m.id, clientId: m.clientId })),
      })),
    };
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    await this.admin.deleteGroups({ groups: groupIds });
  }

  async describeCluster() {
    const metadata = await this.admin.metadata({ topics: [], forceUpdate: true });
    return {
      clusterId: metadata.id,
      brokers: [...metadata.brokers].map(([nodeId, broker]) => ({
        nodeId,
        host: broker.host,
        port: broker.port,
      })),
    };
  }

  async describeConfigs(options: Parameters<KafkaAdmin['describeConfigs']>[0]) {
    const described = await this.admin.describeConfigs({
      resources: options.resources.map((r) => ({
        resourceType: r.type as 2 | 4,
        resourceName: r.name,
        configurationKeys: r.configNames ?? null,
      })),
      includeSynonyms: options.includeSynonyms,
    });
    return {
      resources: described.map((r) => ({
        resourceName: r.resourceName,
        configEntries: r.configs.map((c) => ({
          configName: c.name,
          configValue: c.value ?? '',
          configSource: c.configSource,
          readOnly: c.readOnly,
        })),
      })),
    };
  }

  async alterConfigs(options: Parameters<KafkaAdmin['alterConfigs']>[0]): Promise<void> {
    await this.admin.alterConfigs({
      resources: options.resources.map((r) => ({
        resourceType: r.type as 2 | 4,
        resourceName: r.name,
        configs: (r.configEntries ?? []).map((c) => ({ name: c.name, value: c.value })),
      })),
      validateOnly: options.validateOnly,
    });
  }
}
