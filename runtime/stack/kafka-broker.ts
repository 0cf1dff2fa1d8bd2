import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '../logger.js';
import { ensureArtifacts } from './artifacts.js';
import { findJava } from './java.js';
import type { ArtifactLock } from './lock.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';

export interface KafkaBrokerOptions {
  lock: ArtifactLock;
  cacheDir: string;
  dataDir: string;
  repositoryUrl: string;
  logger: Logger;
  /** Try this port first (e.g. 9092); otherwise any free one. */
  preferredPort?: number;
  heapMb?: number;
  /** More server.properties, after the defaults (a test's short retention clock). */
  extraProperties?: Record<string, string>;
}

/** Downloads (once) and verifies the pinned Kafka jars; returns the directory holding them. */
export async function ensureKafkaJars(
  options: Pick<KafkaBrokerOptions, 'lock' | 'cacheDir' | 'repositoryUrl' | 'logger'>,
) {
  const dir = join(options.cacheDir, `kafka-${options.lock.kafka.version}`, 'libs');
  const result = await ensureArtifacts({
    repositoryUrl: options.repositoryUrl,
    artifacts: options.lock.kafka.jars,
    dir,
    label: `kafka ${options.lock.kafka.version} jars`,
    logger: options.logger,
  });
  return { dir, ...result };
}

/**
 * A single-node Apache Kafka in KRaft mode (broker and controller in one JVM) on 127.0.0.1, run
 * from the pinned jars with the machine's Java.
 */
export class KafkaBroker {
  private constructor(
    readonly bootstrap: string,
    private readonly process: ManagedProcess,
  ) {}

  static async start(options: KafkaBrokerOptions): Promise<KafkaBroker> {
    const java = findJava();
    const { dir: libs } = await ensureKafkaJars(options);
    mkdirSync(options.dataDir, { recursive: true });
    const port = await freePort(options.preferredPort);
    const controllerPort = await freePort();
    const logDir = join(options.dataDir, 'kraft');
    const properties = join(options.dataDir, 'server.properties');
    writeFileSync(
      properties,
      brokerProperties({ port, controllerPort, logDir }) +
        Object.entries(options.extraProperties ?? {})
          .map(([name, value]) => `${name}=${value}\n`)
          .join(''),
    );
    const log4j = join(options.dataDir, 'log4j.properties');
    writeFileSync(
      log4j,
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.state.change.logger=WARN',
        '',
      ].join('\n'),
    );
    const classpath = join(libs, '*');
    const jvm = [`-Dlog4j.configuration=file:${log4j}`, '-Djava.awt.headless=true', '-cp', classpath];

    // KRaft needs its storage formatted once with a cluster id; keep the id so data survives restarts.
    // Passed as --cluster-id=<id>: a base64url id may start with '-', which would read as an option.
    const clusterIdFile = join(options.dataDir, 'cluster.id');
    if (!existsSync(clusterIdFile)) writeFileSync(clusterIdFile, randomBytes(16).toString('base64url'));
    const clusterId = readFileSync(clusterIdFile, 'utf8').trim();
    const format = spawnSync(
      java,
      [
        ...jvm,
        'kafka.tools.StorageTool',
        'format',
        '--ignore-formatted',
        `--cluster-id=${clusterId}`,
        '-c',
        properties,
      ],
      { encoding: 'utf8' },
    );
    if (format.status !== 0) {
      throw new Error(`formatting Kafka storage in ${logDir} failed:\n${format.stdout}${format.stderr}`);
    }

    const heap = options.heapMb ?? 768;
    const broker = ManagedProcess.start({
      name: 'kafka',
      command: java,
      args: [`-Xms256m`, `-Xmx${heap}m`, '-XX:+UseG1GC', ...jvm, 'kafka.Kafka', properties],
      logFile: join(options.dataDir, 'kafka.log'),
      logger: options.logger,
    });
    const bootstrap = `127.0.0.1:${port}`;
    try {
      await broker.waitUntilReady(() => KafkaBroker.answers(bootstrap), 90_000);
    } catch (error) {
      await broker.kill();
      throw error;
    }
    options.logger.info({ bootstrap, pid: broker.pid, version: options.lock.kafka.version }, 'kafka ready');
    return new KafkaBroker(bootstrap, broker);
  }

  /** True when the broker answers metadata requests. */
  static async answers(bootstrap: string): Promise<boolean> {
    const admin = new Kafka({
      brokers: [bootstrap],
      clientId: 'stack-probe',
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  async stop(): Promise<void> {
    await this.process.stop(30_000);
  }

  /** SIGKILL, for tests that crash the broker. */
  async kill(): Promise<void> {
    await this.process.kill();
  }
}

function brokerProperties(options: { port: number; controllerPort: number; logDir: string }): string {
  const { port, controllerPort, logDir } = options;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logDir}`,
    // Topics come from the project's topology; a typo in a topic name should fail, not create one.
    'auto.create.topics.enable=false',
    'num.partitions=6',
    // One node: every internal topic has a single replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    // Development settings: consumers join at once, and short session timeouts are allowed so a
    // killed stage's partitions move quickly.
    'group.initial.rebalance.delay.ms=0',
    'group.min.session.timeout.ms=1000',
    'log.segment.bytes=67108864',
    '',
  ].join('\n');
}
