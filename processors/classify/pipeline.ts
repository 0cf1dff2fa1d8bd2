import type { ClassifyConfig } from '../../runtime/config/index.js';
import type { Logger } from '../../runtime/logger.js';
import type { EmotionEngine } from './engine.js';
import { OnnxEmotionEngine } from './onnx-engine.js';

/**
 * The configured classify engine, in the spirit of transformers.js' pipeline(task, model): one
 * call, the engine name and its model, an object with classify().
 */
export async function createEmotionEngine(config: ClassifyConfig, logger: Logger): Promise<EmotionEngine> {
  if (config.engine === 'transformers') {
    const { TransformersEmotionEngine } = await import('./transformers-engine.js');
    const engine = await TransformersEmotionEngine.load({
      ...config.transformers,
      model: config.transformers.model!,
      device: config.executionProvider,
      logger,
    });
    logger.info({ engine: engine.name, model: config.transformers.model }, 'classify engine ready');
    return engine;
  }
  const engine = await OnnxEmotionEngine.load({
    ...(config.models ? { models: config.models } : {}),
    defaultLanguage: config.defaultLanguage,
    executionProvider: config.executionProvider,
    maxBatch: config.maxBatch,
  });
  logger.info({ engine: engine.name, languages: engine.languages }, 'classify engine ready');
  return engine;
}
