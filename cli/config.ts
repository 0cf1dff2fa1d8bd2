import { type GatewayConfig, readGatewayConfig } from '../gateway/config.js';
import { type PipelineConfig, readPipelineSettings } from '../processors/config.js';
import { type AudioConfig, readAudioConfig } from '../producers/audio/config.js';
import { EnvReader, readRuntimeConfig } from '../runtime/config/index.js';
import { type FeedbackConfig, readFeedbackConfig } from '../sinks/feedback/config.js';

/** The whole product's settings: the runtime's, each stage's, and the gateway's, audio's and feedback's. */
export interface Config extends PipelineConfig {
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
    ...readPipelineSettings(read),
    gateway: readGatewayConfig(read),
    audio: readAudioConfig(read),
    feedback: readFeedbackConfig(read),
  };
}
