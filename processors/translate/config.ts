import { ConfigError, type EnvReader } from '../../runtime/config/index.js';

export const TRANSLATE_ENGINES = ['none', 'marian', 'azure', 'libretranslate'] as const;

/** The translate stage's engine (see processors/translate). */
export interface TranslateConfig {
  engine: (typeof TRANSLATE_ENGINES)[number];
  targetLanguage: string;
  timeoutMs: number;
  maxRetries: number;
  /** marian: source language → model id or local directory (OPUS-MT converted for transformers.js). */
  marianModels: Record<string, string>;
  azure: {
    endpoint: string;
    key: string | undefined;
    region: string | undefined;
    resourceId: string | undefined;
  };
  libreTranslate: { url: string | undefined; apiKey: string | undefined };
}

/**
 * The translate stage's settings (TRANSLATE_*, AZURE_TRANSLATOR_*, LIBRETRANSLATE_*), validated
 * by the one loader (cli/config.ts).
 */
export function readTranslateConfig(read: EnvReader): TranslateConfig {
  const engine = read.oneOf('TRANSLATE_ENGINE', TRANSLATE_ENGINES, 'none');
  const targetLanguage = read.language('TRANSLATE_TARGET_LANGUAGE', 'en');
  const marianModels = read.pairs('TRANSLATE_MARIAN_MODELS', /^[a-z]{2}$/, 'language=model') ?? {};
  if (engine === 'marian' && Object.keys(marianModels).length === 0) {
    throw new ConfigError(
      'TRANSLATE_MARIAN_MODELS',
      'is required when TRANSLATE_ENGINE=marian (e.g. ro=Helsinki-NLP/opus-mt-ro-en converted to ONNX, or a local directory)',
    );
  }
  const azure = {
    endpoint: (
      read.url('AZURE_TRANSLATOR_ENDPOINT')?.toString() ?? 'https://api.cognitive.microsofttranslator.com'
    ).replace(/\/$/, ''),
    key: read.optionalString('AZURE_TRANSLATOR_KEY'),
    region: read.optionalString('AZURE_TRANSLATOR_REGION'),
    resourceId: read.optionalString('AZURE_TRANSLATOR_RESOURCE_ID'),
  };
  const libreTranslate = {
    url: read.url('LIBRETRANSLATE_URL')?.toString().replace(/\/$/, ''),
    apiKey: read.optionalString('LIBRETRANSLATE_API_KEY'),
  };
  if (engine === 'libretranslate' && !libreTranslate.url) {
    read.requiredString('LIBRETRANSLATE_URL', 'when TRANSLATE_ENGINE=libretranslate');
  }
  return {
    engine,
    targetLanguage,
    timeoutMs: read.int('TRANSLATE_TIMEOUT_MS', 30_000, { min: 100 }),
    maxRetries: read.int('TRANSLATE_MAX_RETRIES', 4, { min: 0, max: 100 }),
    marianModels,
    azure,
    libreTranslate,
  };
}
