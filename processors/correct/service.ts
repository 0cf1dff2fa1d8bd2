import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import type { OpenedHandler } from '../../runtime/stage/types.js';
import type { TextSegment } from '../../schemas/index.js';
import type { PipelineConfig } from '../config.js';
import { stageTopicsOf } from '../stage-topology.js';
import { createCorrectionEngine } from './pipeline.js';
import { CorrectHandler } from './stage.js';

/** The correct stage's handler, writing to `outputTopic` (segments.corrected, or a replay's). */
export async function openCorrectHandler(
  context: ServiceContext<PipelineConfig>,
  outputTopic: string,
): Promise<OpenedHandler<TextSegment, TextSegment>> {
  const { config, logger, metrics } = context;
  const engine = await createCorrectionEngine(config.correct, logger, metrics);
  logger.info({ engine: engine.name }, 'correction engine ready');
  return {
    handler: new CorrectHandler(engine, outputTopic, config.correct.languages),
    close: () => engine.close(),
  };
}

/** The correct stage as a service: segments.raw → segments.corrected. */
export async function startCorrectService(context: ServiceContext<PipelineConfig>): Promise<RunningService> {
  const { input, output } = stageTopicsOf(context.config.topics.prefix, 'correct');
  const opened = await openCorrectHandler(context, output.topic);
  const running = await startStage(context, {
    name: 'correct',
    input,
    outputs: [output],
    handler: opened.handler,
  });
  return { ...running, stop: () => running.stop().finally(() => opened.close()) };
}
