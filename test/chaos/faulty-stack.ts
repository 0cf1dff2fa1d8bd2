import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../cli/config.js';
import type { Logger } from '../../runtime/logger.js';
import { BlobEmulator } from '../../runtime/stack/blob-emulator.js';
import { KafkaBroker } from '../../runtime/stack/kafka-broker.js';
import { defaultCacheDir, withoutStackEndpoints } from '../../runtime/stack/local-stack.js';
import { readArtifactLock } from '../../runtime/stack/lock.js';
import { CCOMPAT_PATH, SchemaRegistryServer } from '../../runtime/stack/schema-registry-server.js';

/**
 * Kafka, the registry and Azurite of a chaos test's own (the shared stack of the other tests must
 * not go down), each of which can be stopped and started again on the same port and data, as an
 * operator's restart or an outage would.
 */
export class FaultyStack {
  private kafka: KafkaBroker | undefined;
  private registry: SchemaRegistryServer | undefined;
  private blob: BlobEmulator | undefined;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'chaos-stack-'));
  private kafkaPort = 0;
  private registryPort = 0;
  private blobPort = 0;

  private constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  static async start(logger: Logger): Promise<FaultyStack> {
    // The config without the shared stack's endpoints, which the global setup put in process.env.
    const env = withoutStackEndpoints(process.env);
    const stack = new FaultyStack(loadConfig(env), logger);
    await Promise.all([stack.startKafka(), stack.startBlob()]);
    await stack.startRegistry();
    return stack;
  }

  /** Environment that points services and clients at this stack. */
  env(): Record<string, string> {
    return {
      KAFKA_BROKERS: `127.0.0.1:${this.kafkaPort}`,
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${this.registryPort}${CCOMPAT_PATH}`,
      AZURE_STORAGE_CONNECTION_STRING: this.blobConnectionString,
    };
  }

  private blobConnectionString = '';

  async startKafka(): Promise<void> {
    this.kafka = await KafkaBroker.start({
      lock: readArtifactLock(),
      cacheDir: defaultCacheDir(this.config),
      repositoryUrl: this.config.stack.mavenRepositoryUrl,
      dataDir: join(this.dataDir, 'kafka'),
      logger: this.logger,
      ...(this.kafkaPort ? { preferredPort: this.kafkaPort } : {}),
    });
    this.kafkaPort = Number(this.kafka.bootstrap.split(':')[1]);
  }

  async stopKafka(): Promise<void> {
    await this.kafka?.stop();
    this.kafka = undefined;
  }

  async startRegistry(): Promise<void> {
    this.registry = await SchemaRegistryServer.start({
      lock: readArtifactLock(),
      cacheDir: defaultCacheDir(this.config),
      repositoryUrl: this.config.stack.mavenRepositoryUrl,
      dataDir: join(this.dataDir, 'schema-registry'),
      kafkaBootstrap: `127.0.0.1:${this.kafkaPort}`,
      logger: this.logger,
      ...(this.registryPort ? { preferredPort: this.registryPort } : {}),
    });
    this.registryPort = Number(new URL(this.registry.url).port);
  }

  async stopRegistry(): Promise<void> {
    await this.registry?.stop();
    this.registry = undefined;
  }

  async startBlob(): Promise<void> {
    this.blob = await BlobEmulator.start({
      dataDir: join(this.dataDir, 'azurite'),
      logger: this.logger,
      ...(this.blobPort ? { preferredPort: this.blobPort } : {}),
    });
    this.blobConnectionString = this.blob.connectionString;
    this.blobPort = Number(new URL(this.blob.blobUrl).port);
  }

  async stopBlob(): Promise<void> {
    await this.blob?.stop();
    this.blob = undefined;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.stopRegistry(), this.stopBlob()]);
    await this.stopKafka();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
