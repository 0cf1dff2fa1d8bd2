import { createKafka } from '../runtime/kafka/client.js';
import {
  durabilityFor,
  type EnsureTopicsResult,
  ensureTopics,
  registryStorageTopics,
} from '../runtime/kafka/topics.js';
import type { Logger } from '../runtime/logger.js';
import { SchemaRegistryClient } from '../runtime/serde/schema-registry.js';
import { avroSchemas, plannedTopics, subjectOf } from '../schemas/index.js';
import type { Config } from './config.js';

/**
 * Creates every pipeline topic (and its .dlq) the configuration asks for, and the schema
 * registry's storage topics (compacted, kept forever), so a registry started after this never
 * creates them with the broker's defaults.
 */
export async function createPipelineTopics(config: Config, logger: Logger): Promise<EnsureTopicsResult> {
  const admin = createKafka(config.kafka, logger, 'admin').admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    const durability = durabilityFor(brokers.length);
    const replicationFactor = config.topics.replicationFactor ?? durability.replicationFactor;
    if (brokers.length < 3)
      logger.warn(
        { brokers: brokers.length, replicationFactor },
        'fewer than 3 brokers: topics keep a single copy, so losing a broker loses data (fine for development only)',
      );
    return await ensureTopics(
      admin,
      [
        ...registryStorageTopics(brokers.length),
        ...plannedTopics({
          ...config.topics,
          replicationFactor,
          minInsyncReplicas: durabilityFor(replicationFactor).minInsyncReplicas,
        }).map((topic) => ({ ...topic, replicationFactor })),
      ],
      logger,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Registers each topic's value schema under `<topic>-value` with BACKWARD compatibility. */
export async function registerPipelineSchemas(
  config: Config,
  logger: Logger,
): Promise<Array<{ subject: string; id: number }>> {
  const registry = new SchemaRegistryClient(config.schemaRegistry);
  const registered: Array<{ subject: string; id: number }> = [];
  for (const topic of plannedTopics(config.topics)) {
    if (!topic.value) continue;
    const subject = subjectOf(topic.name);
    const id = await registry.register(subject, avroSchemas[topic.value], 'BACKWARD');
    registered.push({ subject, id });
  }
  logger.info({ subjects: registered.length }, 'schemas registered');
  return registered;
}
