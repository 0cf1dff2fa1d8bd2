import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withBootstrapAdmin } from '../kafka/client.js';
import { ensureTopics, REGISTRY_STORAGE_TOPICS, registryStorageTopics } from '../kafka/topics.js';
import type { Logger } from '../logger.js';
import { ensureArtifacts, fileName } from './artifacts.js';
import { findJava } from './java.js';
import type { ArtifactLock } from './lock.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';

export interface SchemaRegistryServerOptions {
  lock: ArtifactLock;
  cacheDir: string;
  dataDir: string;
  repositoryUrl: string;
  kafkaBootstrap: string;
  logger: Logger;
  preferredPort?: number;
}

/** The Confluent-compatible API of Apicurio Registry. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

/** Downloads (once), verifies and unpacks the pinned Apicurio Registry; returns its runner jar. */
async function ensureApicurio(options: SchemaRegistryServerOptions): Promise<string> {
  const { version, distribution } = options.lock.apicurio;
  const root = join(options.cacheDir, `apicurio-registry-${version}`);
  await ensureArtifacts({
    repositoryUrl: options.repositoryUrl,
    artifacts: [distribution],
    dir: join(root, 'download'),
    label: `apicurio registry ${version}`,
    logger: options.logger,
  });
  const unpacked = join(root, 'app');
  const findRunner = () =>
    existsSync(unpacked) ? readdirSync(unpacked).find((file) => file.endsWith('-runner.jar')) : undefined;
  if (!findRunner()) {
    rmSync(unpacked, { recursive: true, force: true });
    mkdirSync(unpacked, { recursive: true });
    const tar = spawnSync('tar', ['-xzf', join(root, 'download', fileName(distribution)), '-C', unpacked], {
      encoding: 'utf8',
    });
    if (tar.status !== 0) throw new Error(`unpacking Apicurio Registry failed: ${tar.stderr}`);
  }
  const runner = findRunner();
  if (!runner) throw new Error(`no *-runner.jar in the Apicurio Registry ${version} distribution`);
  return join(unpacked, runner);
}

/** Creates (or repairs the settings of) the registry's storage topics on the given cluster. */
export async function ensureRegistryStorage(bootstrap: string, logger: Logger): Promise<void> {
  await withBootstrapAdmin(
    bootstrap,
    async (admin) => {
      const { brokers } = await admin.describeCluster();
      await ensureTopics(admin, registryStorageTopics(brokers.length), logger);
    },
    { clientId: 'registry-storage', connectionTimeoutMs: 1000 },
  );
}

/**
 * Apicurio Registry in its Confluent-compatible mode, storing schemas in a Kafka topic (kafkasql)
 * that is compacted and never expires, so registered schemas outlive every record that names them.
 */
export class SchemaRegistryServer {
  private constructor(
    readonly url: string,
    private readonly process: ManagedProcess,
  ) {}

  static async start(options: SchemaRegistryServerOptions): Promise<SchemaRegistryServer> {
    const java = findJava();
    const runner = await ensureApicurio(options);
    // Its storage topics exist, compacted and kept forever, before it starts: Apicurio would
    // otherwise create them with the broker's defaults (delete after 7 days).
    await ensureRegistryStorage(options.kafkaBootstrap, options.logger);
    mkdirSync(options.dataDir, { recursive: true });
    const port = await freePort(options.preferredPort);
    const server = ManagedProcess.start({
      name: 'schema-registry',
      command: java,
      args: ['-Xms128m', '-Xmx512m', '-Djava.awt.headless=true', '-jar', runner],
      env: {
        ...process.env,
        QUARKUS_HTTP_HOST: '127.0.0.1',
        QUARKUS_HTTP_PORT: String(port),
        QUARKUS_LOG_CONSOLE_COLOR: 'false',
        APICURIO_STORAGE_KIND: 'kafkasql',
        APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: options.kafkaBootstrap,
        APICURIO_KAFKASQL_TOPIC: REGISTRY_STORAGE_TOPICS[0],
        APICURIO_KAFKASQL_SNAPSHOTS_TOPIC: REGISTRY_STORAGE_TOPICS[1],
        // The Confluent API deletes subjects through these; off by default in Apicurio 3.
        APICURIO_REST_DELETION_ARTIFACT_ENABLED: 'true',
        APICURIO_REST_DELETION_ARTIFACT_VERSION_ENABLED: 'true',
        APICURIO_REST_DELETION_GROUP_ENABLED: 'true',
      },
      logFile: join(options.dataDir, 'schema-registry.log'),
      logger: options.logger,
    });
    const url = `http://127.0.0.1:${port}${CCOMPAT_PATH}`;
    try {
      await server.waitUntilReady(async () => (await fetch(`${url}/subjects`)).ok, 120_000);
    } catch (error) {
      await server.kill();
      throw error;
    }
    options.logger.info(
      { url, pid: server.pid, version: options.lock.apicurio.version },
      'schema registry ready',
    );
    return new SchemaRegistryServer(url, server);
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }

  async kill(): Promise<void> {
    await this.process.kill();
  }
}
