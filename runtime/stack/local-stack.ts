import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { packageRoot } from '../package-root.js';
import { BlobEmulator } from './blob-emulator.js';
import { KafkaBroker } from './kafka-broker.js';
import { KafkaCluster } from './kafka-cluster.js';
import { readArtifactLock } from './lock.js';
import { SchemaRegistryServer } from './schema-registry-server.js';

export interface StackEndpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  azureStorageConnectionString: string;
}

export interface LocalStackOptions {
  config: RuntimeConfig;
  /** Kafka logs, registry and blob data; kept between runs unless the caller wipes it. */
  dataDir: string;
  logger: Logger;
  /** Try 9092 / 8081 / 10000 first, so a developer's endpoints stay the same between runs. */
  preferWellKnownPorts?: boolean;
  /** Kafka nodes to start: 1 (the development default) or a KRaft cluster of several. */
  brokers?: number;
}

/**
 * An environment without the endpoints of a running stack (KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * AZURE_STORAGE_CONNECTION_STRING), so a stack of its own starts everything (chaos tests,
 * benchmarks that need a broker nobody else uses).
 */
export function withoutStackEndpoints(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const { KAFKA_BROKERS: _k, SCHEMA_REGISTRY_URL: _r, AZURE_STORAGE_CONNECTION_STRING: _a, ...rest } = env;
  return rest;
}

export class StackInUseError extends Error {
  override readonly name = 'StackInUseError';
}

export function defaultCacheDir(config: RuntimeConfig): string {
  return config.stack.cacheDir ?? join(packageRoot(), '.cache');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kafka, a schema registry and a Blob emulator on 127.0.0.1. Each is started only when the
 * environment does not already point at one (KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * AZURE_STORAGE_CONNECTION_STRING), so the same code drives local runs, CI and real clusters.
 */
export class LocalStack {
  private constructor(
    readonly endpoints: StackEndpoints,
    readonly kafka: KafkaBroker | KafkaCluster | undefined,
    readonly registry: SchemaRegistryServer | undefined,
    readonly blob: BlobEmulator | undefined,
    private readonly lockFile: string,
    private readonly logger: Logger,
  ) {}

  /** Names of the components this stack started itself (the rest were given by the environment). */
  get started(): string[] {
    return [this.kafka && 'kafka', this.registry && 'schema-registry', this.blob && 'azurite'].filter(
      (name): name is string => Boolean(name),
    );
  }

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const { config, dataDir, logger } = options;
    const prefer = options.preferWellKnownPorts ?? false;
    mkdirSync(dataDir, { recursive: true });
    const lockFile = join(dataDir, 'stack.pid');
    if (existsSync(lockFile)) {
      const pid = Number(readFileSync(lockFile, 'utf8'));
      if (pid !== process.pid && isAlive(pid)) {
        throw new StackInUseError(
          `another emotion-stream stack (pid ${pid}) is using ${dataDir}; stop it first`,
        );
      }
    }
    writeFileSync(lockFile, String(process.pid));

    const lock = readArtifactLock();
    const cacheDir = defaultCacheDir(config);
    const repositoryUrl = config.stack.mavenRepositoryUrl;
    let kafka: KafkaBroker | KafkaCluster | undefined;
    let registry: SchemaRegistryServer | undefined;
    let blob: BlobEmulator | undefined;
    try {
      const brokers = options.brokers ?? 1;
      const kafkaStarting = config.kafka.brokers
        ? Promise.resolve(undefined)
        : brokers > 1
          ? KafkaCluster.start({
              size: brokers,
              lock,
              cacheDir,
              repositoryUrl,
              dataDir: join(dataDir, 'kafka'),
              logger,
            })
          : KafkaBroker.start({
              lock,
              cacheDir,
              repositoryUrl,
              dataDir: join(dataDir, 'kafka'),
              logger,
              ...(prefer ? { preferredPort: 9092 } : {}),
            });
      const blobStarting = config.blob.connectionString
        ? Promise.resolve(undefined)
        : BlobEmulator.start({
            dataDir: join(dataDir, 'azurite'),
            logger,
            ...(prefer ? { preferredPort: 10000 } : {}),
          });
      // Settle both before judging either, so a failure never leaves the other running unowned.
      const [kafkaResult, blobResult] = await Promise.allSettled([kafkaStarting, blobStarting]);
      kafka = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined;
      blob = blobResult.status === 'fulfilled' ? blobResult.value : undefined;
      if (kafkaResult.status === 'rejected') throw kafkaResult.reason;
      if (blobResult.status === 'rejected') throw blobResult.reason;

      const kafkaBrokers = config.kafka.brokers ?? kafka!.bootstrap.split(',');
      if (!config.schemaRegistry.url) {
        if (config.kafka.brokers && (config.kafka.ssl || config.kafka.sasl)) {
          throw new Error(
            'the embedded schema registry cannot use a Kafka cluster with TLS/SASL; set SCHEMA_REGISTRY_URL too',
          );
        }
        registry = await SchemaRegistryServer.start({
          lock,
          cacheDir,
          repositoryUrl,
          dataDir: join(dataDir, 'schema-registry'),
          kafkaBootstrap: kafkaBrokers.join(','),
          logger,
          ...(prefer ? { preferredPort: 8081 } : {}),
        });
      }
      const endpoints: StackEndpoints = {
        kafkaBrokers,
        schemaRegistryUrl: config.schemaRegistry.url ?? registry!.url,
        azureStorageConnectionString: config.blob.connectionString ?? blob!.connectionString,
      };
      return new LocalStack(endpoints, kafka, registry, blob, lockFile, logger);
    } catch (error) {
      await Promise.allSettled([registry?.stop(), blob?.stop()]);
      await kafka?.stop().catch(() => undefined);
      rmSync(lockFile, { force: true });
      throw error;
    }
  }

  /** Environment variables that point this project's services and tests at the stack. */
  env(): Record<string, string> {
    return {
      KAFKA_BROKERS: this.endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: this.endpoints.schemaRegistryUrl,
      AZURE_STORAGE_CONNECTION_STRING: this.endpoints.azureStorageConnectionString,
    };
  }

  /** Stops what this stack started: the registry before Kafka, which it stores its data in. */
  async stop(): Promise<void> {
    await Promise.allSettled([this.registry?.stop(), this.blob?.stop()]);
    await this.kafka?.stop();
    rmSync(this.lockFile, { force: true });
    this.logger.info('local stack stopped');
  }
}
