import type { RunningService, ServiceContext } from '../../runtime/service.js';
import { startStage } from '../../runtime/stage/run-stage.js';
import { avroSchemas, topicNames } from '../../schemas/index.js';
import { createTranslationEngine } from './pipeline.js';
import { TranslateHandler } from './stage.js';

/** The translate stage as a service: segments.corrected → segments.translated. */
export async function startTranslateService(context: ServiceContext): Promise<RunningService> {
  const { config, logger } = context;
  const topics = topicNames(config.topics.prefix);
  const engine = await createTranslationEngine(config.translate, logger, {
    device: config.classify.executionProvider,
    allowRemote: config.classify.transformers.allowRemote,
    cacheDir: config.classify.transformers.cacheDir,
  });
  logger.info(
    { engine: engine?.name ?? 'none', target: config.translate.targetLanguage },
    'translation engine ready',
  );
  // Detection prefers the target and the languages the classifier has models for.
  const preferred = [
    config.translate.targetLanguage,
    ...Object.keys(config.classify.models ?? { en: '', ro: '' }),
  ];
  const running = await startStage(context, {
    name: 'translate',
    input: { topic: topics.segmentsCorrected, schema: avroSchemas.TextSegment },
    outputs: [{ topic: topics.segmentsTranslated, schema: avroSchemas.TextSegment }],
    handler: new TranslateHandler(
      engine,
      topics.segmentsTranslated,
      config.translate.targetLanguage,
      preferred,
    ),
  });
  return { ...running, stop: () => running.stop().finally(() => engine?.close()) };
}
