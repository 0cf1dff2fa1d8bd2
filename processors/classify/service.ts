import { BlobStore } from '../../runtime/blob/blob-store.js';
import { colorOf } from '../../runtime/rollout/rollout-plan.js';
import { RolloutPlanSource } from '../../runtime/rollout/rollout-plans.js';
import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import type { InputRecord, OpenedHandler } from '../../runtime/stage/types.js';
import { type EmotionResult, type TextSegment, topicNames } from '../../schemas/index.js';
import type { PipelineConfig } from '../config.js';
import { stageTopicsOf } from '../stage-topology.js';
import { ClassifyMetrics } from './classify-metrics.js';
import { createEmotionEngine, resolveRegistryModels } from './pipeline.js';
import { ClassifyHandler } from './stage.js';

/**
 * The classify stage's processing (the configured models, registry versions fetched), writing to
 * `outputTopic`: emotions, emotions.shadow, or a replay's topic.
 */
export async function openClassifyHandler(
  context: ServiceContext<PipelineConfig>,
  outputTopic: string,
  options: { name?: string; owns?: (record: InputRecord<TextSegment>) => boolean } = {},
): Promise<OpenedHandler<TextSegment, EmotionResult>> {
  const { config, logger } = context;
  const engine = await createEmotionEngine(await resolveRegistryModels(config, logger), logger);
  const metrics = new ClassifyMetrics(context.metrics, options.name ?? 'classify', config.metricsMaxStreams);
  return {
    handler: new ClassifyHandler(engine, outputTopic, {
      ...(options.owns ? { owns: options.owns } : {}),
      metrics,
    }),
    close: () => engine.close(),
  };
}

/**
 * The classify stage as a service: segments.translated → emotions. As one colour of a blue/green
 * pair (CLASSIFY_COLOR) it has a consumer group of its own and classifies only the keys the
 * rollout plan gives it; in shadow mode (CLASSIFY_SHADOW) it classifies everything into
 * emotions.shadow, beside the serving deployments.
 */
export async function startClassifyService(context: ServiceContext<PipelineConfig>): Promise<RunningService> {
  const { config, logger } = context;
  const topics = topicNames(config.topics.prefix);
  const { color, shadow } = config.classify;
  const name = shadow
    ? `classify-${color ? `${color}-` : ''}shadow`
    : color
      ? `classify-${color}`
      : 'classify';
  const layout = stageTopicsOf(config.topics.prefix, 'classify');
  const output = shadow ? topics.emotionsShadow : layout.output.topic;

  let plans: RolloutPlanSource | undefined;
  let owns: ((record: InputRecord<TextSegment>) => boolean) | undefined;
  if (color && !shadow) {
    const source = new RolloutPlanSource(BlobStore.connect(config.blob), `${config.topics.prefix}classify`, {
      pollMs: config.rollout.pollMs,
      defaultGraceMs: config.rollout.graceMs,
      logger,
    });
    await source.start();
    plans = source;
    owns = (record) =>
      colorOf(source.planFor(record.timestamp), record.key ?? record.value.id, record.timestamp) === color;
  }
  const opened = await openClassifyHandler(context, output, { name, ...(owns ? { owns } : {}) });
  try {
    const running = await startStage(context, {
      name,
      input: layout.input,
      outputs: [{ ...layout.output, topic: output }],
      handler: opened.handler,
    });
    logger.info({ stage: name, output, color: color ?? null, shadow }, 'classify deployment started');
    return {
      ...running,
      stop: () =>
        running.stop().finally(() => {
          plans?.stop();
          return opened.close();
        }),
    };
  } catch (error) {
    plans?.stop();
    await opened.close();
    throw error;
  }
}
