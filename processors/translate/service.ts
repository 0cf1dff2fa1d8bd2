import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import type { OpenedHandler } from '../../runtime/stage/types.js';
import type { TextSegment } from '../../schemas/index.js';
import type { PipelineConfig } from '../config.js';
import { stageTopicsOf } from '../stage-topology.js';
import { createTranslationEngine } from './pipeline.js';
import { TranslateHandler } from './stage.js';

/** The translate stage's handler, writing to `outputTopic` (segments.translated, or a replay's). */
export async function openTranslateHandler(
  context: ServiceContext<PipelineConfig>,
  outputTopic: string,
): Promise<OpenedHandler<TextSegment, TextSegment>> {
  const { config, logger } = context;
  const engine = await createTranslationEngine(config.translate, logger, {
    device: config.classify.executionProvider,
    allowRemote: config.classify.transformers.allowRemote,
    cacheDir: config.classify.transformers.cacheDir,
  });
  logger.info({ engine: engine.name, target: config.translate.targetLanguage }, 'translation engine ready');
  // Detection prefers the target and the languages the classifier has models for.
  const preferred = [
    config.translate.targetLanguage,
    ...Object.keys(config.classify.models ?? { en: '', ro: '' }),
  ];
  return {
    handler: new TranslateHandler(engine, outputTopic, config.translate.targetLanguage, preferred),
    close: () => engine.close(),
  };
}

/** The translate stage as a service: segments.corrected → segments.translated. */
export async function startTranslateService(
  context: ServiceContext<PipelineConfig>,
): Promise<RunningService> {
  const { input, output } = stageTopicsOf(context.config.topics.prefix, 'translate');
  const opened = await openTranslateHandler(context, output.topic);
  const running = await startStage(context, {
    name: 'translate',
    input,
    outputs: [output],
    handler: opened.handler,
  });
  return { ...running, stop: () => running.stop().finally(() => opened.close()) };
}
