import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import { avroSchemas, topicNames } from '../../schemas/index.js';
import { createCorrectionEngine } from './pipeline.js';
import { CorrectHandler } from './stage.js';

/** The correct stage as a service: segments.raw → segments.corrected. */
export async function startCorrectService(context: ServiceContext): Promise<RunningService> {
  const { config, logger, metrics } = context;
  const topics = topicNames(config.topics.prefix);
  const engine = await createCorrectionEngine(config.correct, logger, metrics);
  logger.info({ engine: engine.name }, 'correction engine ready');
  const running = await startStage(context, {
    name: 'correct',
    input: { topic: topics.segmentsRaw, schema: avroSchemas.TextSegment },
    outputs: [{ topic: topics.segmentsCorrected, schema: avroSchemas.TextSegment }],
    handler: new CorrectHandler(engine, topics.segmentsCorrected, config.correct.languages),
  });
  return { ...running, stop: () => running.stop().finally(() => engine.close()) };
}
