import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import { avroSchemas, topicNames } from '../../schemas/index.js';
import { createEmotionEngine, resolveRegistryModels } from './pipeline.js';
import { ClassifyHandler } from './stage.js';

/** The classify stage as a service: segments.translated → emotions. */
export async function startClassifyService(context: ServiceContext): Promise<RunningService> {
  const { config, logger } = context;
  const topics = topicNames(config.topics.prefix);
  const engine = await createEmotionEngine(await resolveRegistryModels(config, logger), logger);
  const running = await startStage(context, {
    name: 'classify',
    input: { topic: topics.segmentsTranslated, schema: avroSchemas.TextSegment },
    outputs: [{ topic: topics.emotions, schema: avroSchemas.EmotionResult }],
    handler: new ClassifyHandler(engine, topics.emotions),
  });
  return { ...running, stop: () => running.stop().finally(() => engine.close()) };
}
