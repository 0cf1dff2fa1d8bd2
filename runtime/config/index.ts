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
  /** How produced record batches are compressed (every codec is read whatever this says). */
  compression: (typeof KAFKA_COMPRESSIONS)[number];
  /** Most bytes of records (before compression) one produce request carries (runtime/kafka/request-size.ts). */
  maxRequestBytes: number;
  /** A partition whose next batch cannot be read at all: held or skipped (runtime/kafka/unreadable-batches.ts). */
  unreadableBatch: (typeof UNREADABLE_BATCH_POLICIES)[number];
}

export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export const UNREADABLE_BATCH_POLICIES = ['hold', 'skip'] as const;

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

/** How sinks cut their writes (runtime/sink/batching-sink.ts). */
export interface SinkConfig {
  /** A partition's buffered lines are written once they reach this many bytes... */
  flushBytes: number;
  /** ...or once the oldest of them has waited this long. */
  flushIntervalMs: number;
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
  /**
   * About how long one transaction's work may take: a stage sizes its transactions to what its
   * engine gets through in this time, up to maxBatchRecords (runtime/stage/chunk-sizer.ts).
   */
  commitIntervalMs: number;
  /** Input partitions a sink instance processes at the same time (a stage takes all of its own into each transaction). */
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

/**
 * The settings the runtime itself reads: Kafka, the registry, Blob, topics, the stage and sink
 * loops, the local stack. Each engine and service reads its own section in its own module
 * (processors/classify/config.ts and its siblings, gateway/config.ts, ...); cli/config.ts calls
 * them all (issue 20: the runtime knows nothing about emotions).
 */
export interface RuntimeConfig {
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
}

/** Where an engine runs its model (classify, transcribe). */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;

export interface StackConfig {
  /** Where downloaded artifacts (Kafka jars, registry) and the local stack's data live. */
  cacheDir: string | undefined;
  /** Maven repository the pinned Kafka and Apicurio artifacts are fetched from (a mirror works). */
  mavenRepositoryUrl: string;
}

/** The runtime's settings alone (runtime tools and benchmarks that run no engine). */
export function loadRuntimeConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): RuntimeConfig {
  return readRuntimeConfig(new EnvReader(env));
}

/** The runtime's sections from one reader (cli/config.ts adds the engines' and services' own). */
export function readRuntimeConfig(read: EnvReader): RuntimeConfig {
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
    // Below the broker's default message.max.bytes (1,048,588), with room for the batch framing.
    maxRequestBytes: read.int('KAFKA_MAX_REQUEST_BYTES', 1_000_000, { min: 1024, max: 104_857_600 }),
    unreadableBatch: read.oneOf('KAFKA_UNREADABLE_BATCH', UNREADABLE_BATCH_POLICIES, 'hold'),
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
    maxBatchRecords: read.int('STAGE_MAX_BATCH_RECORDS', 10_000, { min: 1, max: 100_000 }),
    commitIntervalMs: read.int('STAGE_COMMIT_INTERVAL_MS', 500, { min: 1, max: 600_000 }),
    partitionsConsumedConcurrently: read.int('STAGE_PARTITIONS_CONCURRENTLY', 3, { min: 1, max: 1000 }),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    transactionTimeoutMs: read.int('KAFKA_TRANSACTION_TIMEOUT_MS', 60_000, { min: 1000 }),
    retryInitialMs,
    retryMaxMs,
    kafkaOutageMaxMs: read.int('KAFKA_OUTAGE_MAX_MS', 300_000, { min: 1000 }),
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

const MIB = 1024 * 1024;

function readSink(read: EnvReader): SinkConfig {
  return {
    flushBytes: read.int('SINK_FLUSH_BYTES', 8 * MIB, { min: 1, max: 256 * MIB }),
    flushIntervalMs: read.int('SINK_FLUSH_INTERVAL_MS', 60_000, { min: 100 }),
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
