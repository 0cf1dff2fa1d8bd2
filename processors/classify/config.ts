import {
  ConfigError,
  type EnvReader,
  EXECUTION_PROVIDERS,
  ROLLOUT_COLORS,
  type RolloutColor,
} from '../../runtime/config/index.js';

export const CLASSIFY_ENGINES = ['onnx', 'transformers'] as const;
/** Shipped model tiers (processors/classify/onnx-engine.ts says which directory each takes). */
export const CLASSIFY_TIERS = ['quality', 'fast'] as const;

/** The classify engine and its models (see processors/classify). */
export interface ClassifyConfig {
  engine: (typeof CLASSIFY_ENGINES)[number];
  /** onnx: language → model directory; unset means the models shipped with the project. */
  models: Record<string, string> | undefined;
  /**
   * onnx, without `models`: which shipped models serve. quality = the fine-tuned encoder (English),
   * fast = the bag-of-words models (several thousand texts/s a core). See README "Model tiers".
   */
  tier: (typeof CLASSIFY_TIERS)[number];
  /** The model for texts in languages without one of their own. */
  defaultLanguage: string;
  executionProvider: (typeof EXECUTION_PROVIDERS)[number];
  maxBatch: number;
  /** Blue/green: which deployment this is (it classifies only its share of keys); unset: all keys. */
  color: RolloutColor | undefined;
  /** Shadow: classify every record into emotions.shadow, for `emotion-stream compare`. */
  shadow: boolean;
  transformers: {
    /** A Hugging Face model id or a local directory in Hugging Face layout. */
    model: string | undefined;
    /** The model's label → core class, for labels the built-in maps do not know. */
    labelMap: Record<string, string>;
    /** Weight precision of the ONNX files to load (fp32, fp16, q8, ...). */
    dtype: string;
    /** Whether model ids may be downloaded from the Hugging Face Hub (false: local files only). */
    allowRemote: boolean;
    cacheDir: string | undefined;
  };
}

/** The classify stage's settings (CLASSIFY_*, TRANSFORMERS_*), validated by the one loader (cli/config.ts). */
export function readClassifyConfig(read: EnvReader): ClassifyConfig {
  const models = read.pairs('CLASSIFY_MODELS', /^[a-z]{2}$/, 'language=model-directory');
  const defaultLanguage = read.language('CLASSIFY_DEFAULT_LANGUAGE', 'en');
  if (models && !models[defaultLanguage]) {
    throw new ConfigError(
      'CLASSIFY_MODELS',
      `has no model for CLASSIFY_DEFAULT_LANGUAGE '${defaultLanguage}'`,
    );
  }
  const engine = read.oneOf('CLASSIFY_ENGINE', CLASSIFY_ENGINES, 'onnx');
  const transformersModel = read.optionalString('TRANSFORMERS_MODEL');
  if (engine === 'transformers' && !transformersModel) {
    throw new ConfigError(
      'TRANSFORMERS_MODEL',
      'is required when CLASSIFY_ENGINE=transformers (a model id or a local directory)',
    );
  }
  return {
    engine,
    models,
    tier: read.oneOf('CLASSIFY_TIER', CLASSIFY_TIERS, 'quality'),
    defaultLanguage,
    executionProvider: read.oneOf('CLASSIFY_EXECUTION_PROVIDER', EXECUTION_PROVIDERS, 'cpu'),
    maxBatch: read.int('CLASSIFY_MAX_BATCH', 256, { min: 1, max: 100_000 }),
    color: read.oneOf('CLASSIFY_COLOR', ROLLOUT_COLORS),
    shadow: read.bool('CLASSIFY_SHADOW', false),
    transformers: {
      model: transformersModel,
      labelMap: read.pairs('TRANSFORMERS_LABEL_MAP', /^[^=,]+$/, 'model-label=core-class') ?? {},
      dtype: read.oneOf(
        'TRANSFORMERS_DTYPE',
        ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'] as const,
        'fp32',
      ),
      allowRemote: read.bool('TRANSFORMERS_ALLOW_REMOTE', true),
      cacheDir: read.optionalString('TRANSFORMERS_CACHE_DIR'),
    },
  };
}
