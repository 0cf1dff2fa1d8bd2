import { deadLetterTopicOf } from '../../schemas/topics.js';
import { BlobStore } from '../blob/blob-store.js';
import { createKafka } from '../kafka/client.js';
import { groupIdOf } from '../kafka/group-ids.js';
import { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { RunningService, ServiceContext } from '../service.js';
import { type SinkRouter, TopicToBlobSink } from './topic-to-blob-sink.js';

export interface SinkDefinition<T> {
  name: string;
  topic: string;
  schema: object;
  router: SinkRouter<T>;
  /** Defaults to a store on the configured container. */
  store?: BlobStore;
  onCommitted?: (files: string[]) => void;
}

/** Wires a topic-to-Blob sink from the service context: Kafka, registry, store, dead-letter topic. */
export async function startSink<T>(
  context: ServiceContext,
  definition: SinkDefinition<T>,
): Promise<RunningService & { sink: TopicToBlobSink<T>; store: BlobStore }> {
  const { config, logger, metrics } = context;
  const registry = new SchemaRegistryClient(config.schemaRegistry);
  const store = definition.store ?? BlobStore.connect(config.blob);
  const sink = new TopicToBlobSink<T>({
    name: definition.name,
    groupId: groupIdOf(config.topics.prefix, definition.name),
    topic: definition.topic,
    schema: definition.schema,
    deadLetterTopic: deadLetterTopicOf(definition.topic),
    router: definition.router,
    store,
    kafka: createKafka(config.kafka, logger, definition.name),
    registry,
    logger,
    metrics,
    stage: config.stage,
    sink: config.sink,
    ...(definition.onCommitted ? { onCommitted: definition.onCommitted } : {}),
  });
  await sink.start();
  return {
    sink,
    store,
    checks: {
      kafka: () => sink.isReady(),
      registry: () => registry.ping().then(() => true),
      blob: () => store.ping(),
    },
    stop: () => sink.stop(),
    failed: sink.failed,
  };
}
