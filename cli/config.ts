import { type GatewayConfig, readGatewayConfig } from '../gateway/config.js';
import { type ClassifyConfig, readClassifyConfig } from '../processors/classify/config.js';
import { type CorrectConfig, readCorrectConfig } from '../processors/correct/config.js';
import { readTranscribeConfig, type TranscribeConfig } from '../processors/transcribe/config.js';
import { readTranslateConfig, type TranslateConfig } from '../processors/translate/config.js';
import { type AudioConfig, readAudioConfig } from '../producers/audio/config.js';
import { EnvReader, type RuntimeConfig, readRuntimeConfig } from '../runtime/config/index.js';
import { type FeedbackConfig, readFeedbackConfig } from '../sinks/feedback/config.js';

/** The whole product's settings: the runtime's, then each engine's and service's own section. */
export interface Config extends RuntimeConfig {
  classify: ClassifyConfig;
  correct: CorrectConfig;
  translate: TranslateConfig;
  transcribe: TranscribeConfig;
  gateway: GatewayConfig;
  audio: AudioConfig;
  feedback: FeedbackConfig;
}

/**
 * Reads and validates every setting once. Values that are present must be valid even if the
 * calling command does not use them: a typo in a deployment should fail the first service that
 * starts, not the one that happens to read it. The sections' readers live beside what they
 * configure (issue 20); this is the one place that calls them all.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const read = new EnvReader(env);
  return {
    ...readRuntimeConfig(read),
    classify: readClassifyConfig(read),
    correct: readCorrectConfig(read),
    translate: readTranslateConfig(read),
    transcribe: readTranscribeConfig(read),
    gateway: readGatewayConfig(read),
    audio: readAudioConfig(read),
    feedback: readFeedbackConfig(read),
  };
}
