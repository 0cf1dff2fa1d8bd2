import type { EnvReader, RuntimeConfig } from '../runtime/config/index.js';
import { readClassifyConfig } from './classify/config.js';
import { readCorrectConfig } from './correct/config.js';
import { readTranscribeConfig } from './transcribe/config.js';
import { readTranslateConfig } from './translate/config.js';

/**
 * Each stage's settings section and the reader in the stage's own module (issue 20). A stage with
 * settings of its own adds one line here; its type and the one loader (cli/config.ts) follow.
 */
export const PIPELINE_SETTINGS = {
  transcribe: readTranscribeConfig,
  correct: readCorrectConfig,
  translate: readTranslateConfig,
  classify: readClassifyConfig,
} as const satisfies Record<string, (read: EnvReader) => object>;

export type PipelineSettings = {
  [Section in keyof typeof PIPELINE_SETTINGS]: ReturnType<(typeof PIPELINE_SETTINGS)[Section]>;
};

/**
 * The settings the pipeline's stages read: the runtime's and each stage's section. Translate also
 * reads classify's: the languages with a model of their own stay untranslated, and Marian runs
 * where the classifier does.
 */
export interface PipelineConfig extends RuntimeConfig, PipelineSettings {}

/** Every stage's section, each read by its own module. */
export function readPipelineSettings(read: EnvReader): PipelineSettings {
  return Object.fromEntries(
    Object.entries(PIPELINE_SETTINGS).map(([section, readSection]) => [section, readSection(read)]),
  ) as PipelineSettings;
}
