import { loadConfig } from '../../cli/config.js';
import { tracingConfigFromEnv } from '../../runtime/tracing/tracing-config.js';
import { postgresSinkConfig } from '../../sinks/postgres/postgres-sink.js';

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

/**
 * Settings read by the module that owns them (opt-in sinks), each with the variables that make it
 * read everything.
 */
const OWN_READERS: Array<[(env: NodeJS.ProcessEnv) => unknown, Record<string, string>]> = [
  [postgresSinkConfig, { POSTGRES_URL: 'postgres://db/x' }],
  // Every service's tracing: the OpenTelemetry SDK's standard variables.
  [tracingConfigFromEnv, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }],
];

/** The environment `branch`, noting in `seen` every variable read from it. */
export function watched(branch: Record<string, string>, seen: Set<string>): Record<string, string> {
  return new Proxy(branch, {
    get(target, name) {
      if (typeof name === 'string') seen.add(name);
      return target[name as string];
    },
  });
}

/** Every environment variable the config module and the modules' own readers read, found by watching them. */
export function configVariables(): string[] {
  const seen = new Set<string>();
  for (const [read, branch] of OWN_READERS) read(watched(branch, seen));
  for (const branch of BRANCHES) loadConfig(watched(branch, seen));
  return [...seen].sort();
}
