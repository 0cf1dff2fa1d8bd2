import { loadConfig } from '../../runtime/config/index.js';

/**
 * Settings that make the config module read its conditional variables too (those it reads only
 * when an engine or mechanism that needs them is chosen).
 */
const BRANCHES: Array<Record<string, string>> = [
  {},
  { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' },
  { CLASSIFY_ENGINE: 'transformers', TRANSFORMERS_MODEL: 'm' },
  { CORRECT_ENGINE: 'llm', CORRECT_LLM_BASE_URL: 'http://llm', CORRECT_LLM_MODEL: 'm' },
  { TRANSLATE_ENGINE: 'libretranslate', LIBRETRANSLATE_URL: 'http://lt' },
  { TRANSLATE_ENGINE: 'marian', TRANSLATE_MARIAN_MODELS: 'ro=m' },
  { TRANSCRIBE_ENGINE: 'faster-whisper', WHISPER_MODEL: 'm', WHISPER_LANGUAGE: 'en' },
];

/** Every environment variable the config module reads, found by watching it read. */
export function configVariables(): string[] {
  const seen = new Set<string>();
  for (const branch of BRANCHES) {
    const env = new Proxy(branch, {
      get(target, name) {
        if (typeof name === 'string') seen.add(name);
        return target[name as string];
      },
    });
    loadConfig(env);
  }
  return [...seen].sort();
}
