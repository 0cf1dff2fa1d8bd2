import { join } from 'node:path';
import { BlobStore } from '../../runtime/blob/blob-store.js';
import type { RuntimeConfig } from '../../runtime/config/index.js';
import type { Logger } from '../../runtime/logger.js';
import { defaultCacheDir } from '../../runtime/stack/local-stack.js';
import type { ClassifyConfig } from './config.js';
import type { EmotionEngine } from './engine.js';
import { ModelRegistry, parseRegistryRef } from './model-registry.js';
import { OnnxEmotionEngine } from './onnx-engine.js';

/**
 * The classify settings with every `registry:<name>[@<version>]` model replaced by a local copy
 * of that version from the model registry in Blob (fetched once into the cache directory).
 */
export async function resolveRegistryModels(
  config: RuntimeConfig & { classify: ClassifyConfig },
  logger: Logger,
): Promise<ClassifyConfig> {
  const models = config.classify.models;
  if (!models || !Object.values(models).some((spec) => parseRegistryRef(spec))) return config.classify;
  const registry = new ModelRegistry(BlobStore.connect(config.blob));
  const cacheDir = join(defaultCacheDir(config), 'registry-models');
  const resolved: Record<string, string> = {};
  for (const [language, spec] of Object.entries(models)) {
    const ref = parseRegistryRef(spec);
    resolved[language] = ref ? await registry.fetch(ref, cacheDir) : spec;
    if (ref)
      logger.info({ language, model: spec, dir: resolved[language] }, 'model fetched from the registry');
  }
  return { ...config.classify, models: resolved };
}

/**
 * The configured classify engine, in the spirit of transformers.js' pipeline(task, model): one
 * call, the engine name and its model, an engine to run; every choice is a case.
 */
export async function createEmotionEngine(config: ClassifyConfig, logger: Logger): Promise<EmotionEngine> {
  const choice = config.engine;
  switch (choice) {
    case 'transformers': {
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
    case 'onnx': {
      const engine = await OnnxEmotionEngine.load({
        ...(config.models ? { models: config.models } : {}),
        tier: config.tier,
        defaultLanguage: config.defaultLanguage,
        executionProvider: config.executionProvider,
        maxBatch: config.maxBatch,
      });
      logger.info(
        { engine: engine.name, tier: config.models ? 'custom' : config.tier, models: engine.modelNames },
        'classify engine ready',
      );
      return engine;
    }
    default: {
      const unknown: never = choice;
      throw new Error(`unknown classify engine ${unknown as string}`);
    }
  }
}
