import type { Admin } from 'kafkajs';
import type { Logger } from '../logger.js';

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
}

/**
 * Creates missing topics and grows under-partitioned ones. Never shrinks or deletes: partitions
 * cannot be removed, and a topic's data is not ours to drop.
 */
export async function ensureTopics(
  admin: Admin,
  specs: TopicSpec[],
  logger: Logger,
): Promise<EnsureTopicsResult> {
  const present = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !present.has(spec.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const existingSpecs = specs.filter((spec) => present.has(spec.name));
  const grown: string[] = [];
  if (existingSpecs.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existingSpecs.map((spec) => spec.name) });
    const growth = existingSpecs.flatMap((spec) => {
      const current = metadata.topics.find((topic) => topic.name === spec.name)?.partitions.length ?? 0;
      return current < spec.partitions ? [{ topic: spec.name, count: spec.partitions }] : [];
    });
    if (growth.length > 0) {
      await admin.createPartitions({ topicPartitions: growth });
      grown.push(...growth.map((entry) => entry.topic));
    }
  }
  const result = {
    created: missing.map((spec) => spec.name),
    existing: existingSpecs.map((spec) => spec.name),
    grown,
  };
  logger.info(result, 'topics ensured');
  return result;
}
