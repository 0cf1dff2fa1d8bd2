import type { Logger } from '../logger.js';
import { CONFIG_RESOURCE, type KafkaAdmin } from './admin.js';

/** DescribeConfigs' source of a value set on the topic itself (KIP-226's DYNAMIC_TOPIC_CONFIG). */
const TOPIC_OVERRIDE = 1;

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs, e.g. retention.ms or cleanup.policy. */
  config: Record<string, string>;
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics that had fewer partitions than asked and were grown. */
  grown: string[];
  /** Existing topics whose configs differed from the asked ones and were set to them. */
  reconfigured: string[];
  /** Existing topics with fewer replicas than asked (a reassignment, not done here), with why. */
  weaker: string[];
}

/**
 * Creates missing topics, grows under-partitioned ones and sets the asked configs on existing
 * topics where they differ (issue 21: the registry's `_schemas` had been created with
 * `cleanup.policy=delete` and the broker's 7-day retention; `topics create` now repairs such a
 * topic instead of leaving it). Never shrinks or deletes: partitions cannot be removed, and a
 * topic's data is not ours to drop. A replication factor below the asked one is reported, not
 * changed: that takes a partition reassignment an operator should schedule.
 */
export async function ensureTopics(
  admin: KafkaAdmin,
  specs: TopicSpec[],
  logger: Logger,
): Promise<EnsureTopicsResult> {
  const present = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !present.has(spec.name));
  if (missing.length > 0) {
    await admin.createTopics({
      // Waited for below, on every node: a node of a cluster may not know the new topic yet
      // (UNKNOWN_TOPIC_OR_PARTITION), which is normal for a moment.
      waitForLeaders: false,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
      })),
    });
    await untilLeadersElected(
      admin,
      missing.map((spec) => spec.name),
    );
  }
  const existingSpecs = specs.filter((spec) => present.has(spec.name));
  const grown: string[] = [];
  const reconfigured: string[] = [];
  const weaker: string[] = [];
  if (existingSpecs.length > 0) {
    // One metadata read serves both checks: partitions to grow, and copies kept.
    const metadata = await admin.fetchTopicMetadata({ topics: existingSpecs.map((spec) => spec.name) });
    const partitionsOf = (spec: TopicSpec) =>
      metadata.topics.find((topic) => topic.name === spec.name)?.partitions ?? [];
    const growth = existingSpecs.flatMap((spec) =>
      partitionsOf(spec).length < spec.partitions ? [{ topic: spec.name, count: spec.partitions }] : [],
    );
    if (growth.length > 0) {
      await admin.createPartitions({ topicPartitions: growth });
      grown.push(...growth.map((entry) => entry.topic));
    }
    for (const spec of existingSpecs) {
      const replicas = Math.min(...partitionsOf(spec).map((partition) => partition.replicas.length));
      if (replicas < spec.replicationFactor)
        weaker.push(`${spec.name}: ${replicas} replicas, ${spec.replicationFactor} asked`);
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: existingSpecs.map((spec) => ({ type: CONFIG_RESOURCE.topic, name: spec.name })),
    });
    const changes = existingSpecs.flatMap((spec) => {
      const entries =
        described.resources.find((resource) => resource.resourceName === spec.name)?.configEntries ?? [];
      const current = new Map(entries.map((entry) => [entry.configName, entry.configValue]));
      // The topic's own overrides (source DYNAMIC_TOPIC_CONFIG), kept beside the asked ones.
      const overrides = entries.filter((entry) => entry.configSource === TOPIC_OVERRIDE && !entry.readOnly);
      const differing = Object.entries(spec.config).filter(([name, value]) => current.get(name) !== value);
      if (differing.length === 0) return [];
      logger.warn(
        {
          topic: spec.name,
          changes: Object.fromEntries(
            differing.map(([name, value]) => [name, `${current.get(name)} → ${value}`]),
          ),
        },
        'topic settings differ from the topology: setting them',
      );
      // alterConfigs replaces a topic's overrides with what it is given (the incremental variant,
      // KIP-339, needs Kafka 2.3): its other overrides are sent along unchanged.
      const merged = {
        ...Object.fromEntries(overrides.map((e) => [e.configName, e.configValue])),
        ...spec.config,
      };
      return [
        {
          type: CONFIG_RESOURCE.topic,
          name: spec.name,
          configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })),
        },
      ];
    });
    if (changes.length > 0) {
      await admin.alterConfigs({ validateOnly: false, resources: changes });
      reconfigured.push(...changes.map((change) => change.name));
    }
  }
  for (const problem of weaker)
    logger.warn(
      { problem },
      'topic has fewer replicas than asked: reassign its partitions (kafka-reassign-partitions)',
    );
  const result = {
    created: missing.map((spec) => spec.name),
    existing: existingSpecs.map((spec) => spec.name),
    grown,
    reconfigured,
    weaker,
  };
  logger.info(result, 'topics ensured');
  return result;
}

/**
 * How many copies of each partition a cluster of this size keeps, and how many must have a write
 * before it counts (issue 21): three and two when there are at least three brokers, so one broker
 * can be lost (or restarted) without losing data or stopping writes; one and one on a single-node
 * development stack, which cannot do better.
 */
export function durabilityFor(brokers: number): { replicationFactor: number; minInsyncReplicas: number } {
  return brokers >= 3
    ? { replicationFactor: 3, minInsyncReplicas: 2 }
    : { replicationFactor: 1, minInsyncReplicas: 1 };
}

/**
 * The schema registry's storage (Apicurio kafkasql's journal and snapshots; Confluent's registry
 * uses `_schemas` too): compacted and never expired, as Confluent keeps `_schemas`. Losing it
 * makes every stored record undecodable, so it must outlive any topic retention (issue 21).
 */
export const REGISTRY_STORAGE_TOPICS = ['_schemas', '_schemas_snapshots'] as const;

export function registryStorageTopics(brokers: number): TopicSpec[] {
  const { replicationFactor, minInsyncReplicas } = durabilityFor(brokers);
  return REGISTRY_STORAGE_TOPICS.map((name) => ({
    name,
    // One partition: the journal is replayed in order.
    partitions: 1,
    replicationFactor,
    config: {
      'cleanup.policy': 'compact',
      'retention.ms': '-1',
      'min.insync.replicas': String(minInsyncReplicas),
    },
  }));
}

/** Until every partition of the topics has a leader (metadata errors meanwhile are expected). */
export async function untilLeadersElected(
  admin: KafkaAdmin,
  topics: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready = metadata.topics.every(
        (topic) =>
          topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
      );
      if (ready && metadata.topics.length === topics.length) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`no leaders elected for ${topics.join(', ')} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
