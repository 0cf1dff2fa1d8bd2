import type { Logger } from '../../runtime/logger.js';
import { AzureTranslatorEngine } from './azure-translator.js';
import type { TranslateConfig } from './config.js';
import { NoTranslationEngine, type TranslationEngine } from './engine.js';
import { LibreTranslateEngine } from './libretranslate.js';

/** The configured translation engine (`none`: non-target text passes through untranslated). */
export async function createTranslationEngine(
  config: TranslateConfig,
  logger: Logger,
  options: { device?: 'cpu' | 'cuda'; allowRemote?: boolean; cacheDir?: string | undefined } = {},
): Promise<TranslationEngine> {
  const common = { timeoutMs: config.timeoutMs, maxRetries: config.maxRetries, logger };
  switch (config.engine) {
    case 'none':
      return new NoTranslationEngine();
    case 'azure':
      return new AzureTranslatorEngine({ ...config.azure, ...common });
    case 'libretranslate':
      return new LibreTranslateEngine({
        ...config.libreTranslate,
        url: config.libreTranslate.url!,
        ...common,
      });
    case 'marian': {
      const { MarianTranslationEngine } = await import('./marian.js');
      return MarianTranslationEngine.load({
        models: config.marianModels,
        targetLanguage: config.targetLanguage,
        logger,
        ...options,
      });
    }
  }
}
