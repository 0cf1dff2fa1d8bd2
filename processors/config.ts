import type { RuntimeConfig } from '../runtime/config/index.js';
import type { ClassifyConfig } from './classify/config.js';
import type { CorrectConfig } from './correct/config.js';
import type { TranscribeConfig } from './transcribe/config.js';
import type { TranslateConfig } from './translate/config.js';

/**
 * The settings the pipeline's stages read: the runtime's and each stage's engine section (each read
 * by its own module; cli/config.ts loads them all). Translate also reads classify's: the languages
 * with a model of their own stay untranslated, and Marian runs where the classifier does.
 */
export interface PipelineConfig extends RuntimeConfig {
  classify: ClassifyConfig;
  correct: CorrectConfig;
  translate: TranslateConfig;
  transcribe: TranscribeConfig;
}
