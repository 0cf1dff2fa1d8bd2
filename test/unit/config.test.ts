import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { readGatewayConfig } from '../../gateway/config.js';
import { readClassifyConfig } from '../../processors/classify/config.js';
import { readCorrectConfig } from '../../processors/correct/config.js';
import { readTranscribeConfig } from '../../processors/transcribe/config.js';
import { readTranslateConfig } from '../../processors/translate/config.js';
import { readAudioConfig } from '../../producers/audio/config.js';
import { ConfigError, EnvReader, loadRuntimeConfig } from '../../runtime/config/index.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { silentLogger } from '../../runtime/logger.js';
import { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { readFeedbackConfig } from '../../sinks/feedback/config.js';
import { watched } from '../support/config-variables.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toBeUndefined();
    expect(config.topics).toEqual({ prefix: '', partitions: 6, replicationFactor: undefined });
    expect(config.stage.maxBatchRecords).toBe(10_000);
    expect(config.stage.commitIntervalMs).toBe(500);
    expect(config.logLevel).toBe('info');
    expect(config.stack.mavenRepositoryUrl).toBe('https://repo1.maven.org/maven2');
  });

  it('parses valid settings', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'kafka-0.kafka:9092, 10.0.0.2:9093',
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'secret',
      SCHEMA_REGISTRY_URL: 'https://registry.example.com/apis/ccompat/v7/',
      TOPIC_PARTITIONS: '24',
      LOG_LEVEL: 'debug',
    });
    expect(config.kafka.brokers).toEqual(['kafka-0.kafka:9092', '10.0.0.2:9093']);
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 'secret' });
    expect(config.kafka.ssl).toBe(true);
    expect(config.schemaRegistry.url).toBe('https://registry.example.com/apis/ccompat/v7');
    expect(config.topics.partitions).toBe(24);
  });

  it.each([
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS', 'host:port'],
    [{ KAFKA_BROKERS: 'a:9092,b:99999' }, 'KAFKA_BROKERS', 'host:port'],
    [{ TOPIC_PARTITIONS: 'six' }, 'TOPIC_PARTITIONS', 'integer'],
    [{ TOPIC_PARTITIONS: '0' }, 'TOPIC_PARTITIONS', 'at least 1'],
    [{ KAFKA_SSL: 'maybe' }, 'KAFKA_SSL', 'true or false'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'one of'],
    [{ KAFKA_SASL_MECHANISM: 'plain' }, 'KAFKA_SASL_USERNAME', 'required'],
    [{ KAFKA_SASL_MECHANISM: 'kerberos' }, 'KAFKA_SASL_MECHANISM', 'one of'],
    [{ SCHEMA_REGISTRY_URL: 'registry:8081' }, 'SCHEMA_REGISTRY_URL', 'URL'],
    [{ KAFKA_SSL_CA_FILE: '/no/such/ca.pem' }, 'KAFKA_SSL_CA_FILE', 'does not exist'],
    [
      { KAFKA_SESSION_TIMEOUT_MS: '5000', KAFKA_HEARTBEAT_INTERVAL_MS: '6000' },
      'KAFKA_HEARTBEAT_INTERVAL_MS',
      'below',
    ],
    [{ TOPIC_PREFIX: 'bad prefix/' }, 'TOPIC_PREFIX', 'letters'],
    [{ CORRECT_ENGINE: 'llm' }, 'CORRECT_LLM_BASE_URL', 'required when CORRECT_ENGINE=llm'],
    [{ CORRECT_ENGINE: 'llm', CORRECT_LLM_BASE_URL: 'http://vllm:8000/v1' }, 'CORRECT_LLM_MODEL', 'required'],
    [{ CORRECT_ENGINE: 'aspell' }, 'CORRECT_ENGINE', 'one of'],
    [{ CORRECT_LANGUAGES: 'en,romanian' }, 'CORRECT_LANGUAGES', 'ISO 639-1'],
    [{ CORRECT_LLM_MAX_CHANGE_PERCENT: '150' }, 'CORRECT_LLM_MAX_CHANGE_PERCENT', 'at most 100'],
    [{ TRANSLATE_ENGINE: 'marian' }, 'TRANSLATE_MARIAN_MODELS', 'required when TRANSLATE_ENGINE=marian'],
    [{ TRANSLATE_ENGINE: 'libretranslate' }, 'LIBRETRANSLATE_URL', 'required'],
    [{ TRANSLATE_TARGET_LANGUAGE: 'english' }, 'TRANSLATE_TARGET_LANGUAGE', 'ISO 639-1'],
  ])('rejects %j naming %s', (env, variable, problem) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain('\n');
  });

  it('reads the text-path engines', () => {
    const config = loadConfig({
      CORRECT_ENGINE: 'llm',
      CORRECT_LLM_BASE_URL: 'http://vllm:8000/v1/',
      CORRECT_LLM_MODEL: 'meta-llama/Llama-3.3-70B-Instruct',
      CORRECT_LLM_CONCURRENCY: '200',
      TRANSLATE_ENGINE: 'marian',
      TRANSLATE_MARIAN_MODELS: 'ro=/models/opus-mt-ro-en',
    });
    expect(config.correct.llm).toMatchObject({
      model: 'meta-llama/Llama-3.3-70B-Instruct',
      concurrency: 200,
      maxChangeRatio: 0.3,
    });
    expect(config.translate).toMatchObject({
      engine: 'marian',
      targetLanguage: 'en',
      marianModels: { ro: '/models/opus-mt-ro-en' },
    });
    expect(loadConfig({}).correct).toMatchObject({ engine: 'hunspell', languages: ['en', 'ro'] });
    expect(loadConfig({}).translate.engine).toBe('none');
  });

  it('never echoes a connection string it rejects, since it holds a secret', () => {
    const error = configError({ AZURE_STORAGE_CONNECTION_STRING: 'AccountName=x;Password=hunter2' });
    expect(error.variable).toBe('AZURE_STORAGE_CONNECTION_STRING');
    expect(error.message).not.toContain('hunter2');
  });

  it('names the variable when a service needs a setting that is missing', () => {
    const config = loadConfig({});
    expect(() => createKafka(config.kafka, silentLogger())).toThrow(/^KAFKA_BROKERS: is required/);
    expect(() => new SchemaRegistryClient(config.schemaRegistry)).toThrow(
      /^SCHEMA_REGISTRY_URL: is required/,
    );
  });
});

describe('where settings are read (issue 20)', () => {
  /** The variables `read` touches, found by watching the environment it is given. */
  function variablesReadBy(
    read: (env: NodeJS.ProcessEnv) => unknown,
    env: Record<string, string> = {},
  ): string[] {
    const seen = new Set<string>();
    read(watched(env, seen));
    return [...seen];
  }

  it('each engine and service reads its own section, and the runtime none of them', () => {
    const owners: Array<[string, (read: EnvReader) => unknown, RegExp, Record<string, string>]> = [
      [
        'classify',
        readClassifyConfig,
        /^(CLASSIFY|TRANSFORMERS)_/,
        { CLASSIFY_ENGINE: 'transformers', TRANSFORMERS_MODEL: 'm' },
      ],
      [
        'correct',
        readCorrectConfig,
        /^CORRECT_/,
        { CORRECT_ENGINE: 'llm', CORRECT_LLM_BASE_URL: 'http://llm', CORRECT_LLM_MODEL: 'm' },
      ],
      [
        'translate',
        readTranslateConfig,
        /^(TRANSLATE|AZURE_TRANSLATOR|LIBRETRANSLATE)_/,
        { TRANSLATE_ENGINE: 'libretranslate', LIBRETRANSLATE_URL: 'http://lt' },
      ],
      ['transcribe', readTranscribeConfig, /^(TRANSCRIBE|WHISPER|POCKETSPHINX|ASR)_/, {}],
      ['gateway', readGatewayConfig, /^GATEWAY_/, {}],
      ['audio', readAudioConfig, /^AUDIO_/, {}],
      ['feedback', readFeedbackConfig, /^FEEDBACK_/, {}],
    ];
    const runtime = variablesReadBy((env) => loadRuntimeConfig(env), {
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    for (const [section, read, prefix, branch] of owners) {
      const own = variablesReadBy((env) => read(new EnvReader(env)), branch);
      expect(own.length, section).toBeGreaterThan(0);
      expect(
        own.filter((name) => !prefix.test(name)),
        `${section} reads only its own variables`,
      ).toEqual([]);
      expect(
        runtime.filter((name) => prefix.test(name)),
        `the runtime reads none of ${section}'s`,
      ).toEqual([]);
    }
  });

  it('runtime/ imports nothing from the engines, services or tools built on it', () => {
    const root = fileURLToPath(new URL('../../runtime', import.meta.url));
    const upward = /from '(?:\.\.\/)+(?:processors|gateway|sinks|producers|training|cli|bench)\//;
    const offenders = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => upward.test(readFileSync(join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
