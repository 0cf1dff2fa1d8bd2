import { BlobStore } from '../../runtime/blob/blob-store.js';
import { errorMessage } from '../../runtime/errors.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { groupIdOf } from '../../runtime/kafka/group-ids.js';
import { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { blobFiles, startSink } from '../../runtime/sink/run-sink.js';
import { avroSchemas, type Feedback, topicNames } from '../../schemas/index.js';
import type { FeedbackSinkConfig } from './config.js';
import { FeedbackRouter } from './feedback-records.js';
import { ResultIndex } from './result-index.js';
import { buildTrainingSet } from './training-set.js';

/**
 * The feedback sink as a service: feedback ⋈ emotions → `feedback/daily/dt=…/part-…jsonl`, and
 * every FEEDBACK_DATASET_INTERVAL_MS (when new feedback arrived) a new version of the consolidated
 * training files under `feedback/datasets/`.
 */
export async function startFeedbackSinkService(
  context: ServiceContext<FeedbackSinkConfig>,
): Promise<RunningService> {
  const { config, logger, metrics } = context;
  const topics = topicNames(config.topics.prefix);
  const index = new ResultIndex({
    kafka: createKafka(config.kafka, logger, 'feedback-index'),
    registry: new SchemaRegistryClient(config.schemaRegistry),
    topic: topics.emotions,
    schema: avroSchemas.EmotionResult,
    windowMs: config.feedback.joinWindowMs,
    maxResults: config.feedback.joinMaxResults,
    logger,
    metrics,
    groupPrefix: groupIdOf(config.topics.prefix, 'feedback-index'),
  });
  await index.start();
  const root = topics.feedback;
  // True at start: a predecessor may have written daily files it never consolidated. Rebuilding an
  // unchanged dataset writes nothing.
  let changed = true;
  const store = BlobStore.connect(config.blob);
  const running = await startSink(context, {
    name: 'feedback-sink',
    topic: topics.feedback,
    schema: avroSchemas.Feedback,
    writer: blobFiles<Feedback>(new FeedbackRouter(index, root, config.feedback.joinWaitMs), store),
    onCommitted: (files) => {
      if (files.length > 0) changed = true;
    },
  });

  let building: Promise<void> = Promise.resolve();
  const consolidate = () => {
    if (!changed) return building;
    changed = false;
    building = building.then(async () => {
      try {
        const { manifest, created } = await buildTrainingSet(store, root);
        if (created)
          logger.info(
            { version: manifest.version, languages: manifest.languages },
            'feedback dataset written',
          );
      } catch (error) {
        changed = true;
        logger.warn({ err: errorMessage(error) }, 'feedback dataset not rebuilt; will retry');
      }
    });
    return building;
  };
  const timer = setInterval(() => void consolidate(), config.feedback.datasetIntervalMs);

  return {
    checks: { ...running.checks, index: () => index.loadedAll },
    failed: running.failed,
    stop: async () => {
      clearInterval(timer);
      await running.stop();
      await consolidate();
      await index.stop();
    },
  };
}
