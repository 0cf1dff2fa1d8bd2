import { deadLetterTopicOf } from '../../schemas/topics.js';
import { BlobStore } from '../blob/blob-store.js';
import { createKafka } from '../kafka/client.js';
import { groupIdOf } from '../kafka/group-ids.js';
import { SchemaRegistryClient } from '../serde/schema-registry.js';
import type { RunningService, ServiceContext } from '../service.js';
import { BatchingSink } from './batching-sink.js';
import { BlobFilesWriter, type SinkRouter } from './blob-files-writer.js';
import type { SinkWriter } from './sink-writer.js';

/** What the writer of a sink may need to know about where it runs. */
export interface WriterContext {
  service: ServiceContext;
  groupId: string;
  topic: string;
}

export interface SinkDefinition<T, P> {
  name: string;
  topic: string;
  schema: object;
  writer: (context: WriterContext) => SinkWriter<T, P>;
  onCommitted?: (names: string[]) => void;
}

/** A writer of JSON Lines files to Blob (the configured container unless `store` is given). */
export function blobFiles<T>(router: SinkRouter<T>, store?: BlobStore) {
  return ({ service, groupId, topic }: WriterContext) =>
    new BlobFilesWriter<T>(
      store ?? BlobStore.connect(service.config.blob),
      router,
      `_sink/${groupId}/${topic}`,
    );
}

/** Wires a sink from the service context: Kafka, registry, its writer, the dead-letter topic. */
export async function startSink<T, P>(
  context: ServiceContext,
  definition: SinkDefinition<T, P>,
): Promise<RunningService & { sink: BatchingSink<T, P> }> {
  const { config, logger, metrics } = context;
  const registry = new SchemaRegistryClient(config.schemaRegistry);
  const groupId = groupIdOf(config.topics.prefix, definition.name);
  const writer = definition.writer({ service: context, groupId, topic: definition.topic });
  const sink = new BatchingSink<T, P>({
    name: definition.name,
    groupId,
    topic: definition.topic,
    schema: definition.schema,
    deadLetterTopic: deadLetterTopicOf(definition.topic),
    writer,
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
    checks: {
      kafka: () => sink.isReady(),
      registry: () => registry.ping().then(() => true),
      [writer.target]: () => writer.ping(),
    },
    stop: () => sink.stop(),
    failed: sink.failed,
  };
}
