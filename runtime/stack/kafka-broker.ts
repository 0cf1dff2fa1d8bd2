import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withBootstrapAdmin } from '../kafka/client.js';
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

/** One node of a KRaft quorum: its id, its ports, and the quorum it votes in. */
interface NodeLayout {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** `controller.quorum.voters`: id@host:port of every node. */
  voters: string;
  /** Nodes in the cluster: internal topics are replicated across up to three of them. */
  clusterSize: number;
}

/**
 * Apache Kafka in KRaft mode (each node broker and controller in one JVM) on 127.0.0.1, run from
 * the pinned jars with the machine's Java: one node for the development stack, or one node of a
 * cluster (KafkaCluster).
 */
export class KafkaBroker {
  private constructor(
    readonly bootstrap: string,
    private process: ManagedProcess,
    private readonly relaunch: () => Promise<ManagedProcess>,
  ) {}

  static async start(options: KafkaBrokerOptions): Promise<KafkaBroker> {
    const port = await freePort(options.preferredPort);
    const controllerPort = await freePort();
    return KafkaBroker.startNode(options, {
      nodeId: 1,
      port,
      controllerPort,
      voters: `1@127.0.0.1:${controllerPort}`,
      clusterSize: 1,
    });
  }

  /** Starts one node of a quorum; `ready` says when to count it as up (a lone node: it answers). */
  static async startNode(
    options: KafkaBrokerOptions & { clusterId?: string; ready?: (bootstrap: string) => Promise<boolean> },
    layout: NodeLayout,
  ): Promise<KafkaBroker> {
    const java = findJava();
    const { dir: libs } = await ensureKafkaJars(options);
    mkdirSync(options.dataDir, { recursive: true });
    const logDir = join(options.dataDir, 'kraft');
    const properties = join(options.dataDir, 'server.properties');
    writeFileSync(
      properties,
      brokerProperties({ ...layout, logDir }) +
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
    if (!existsSync(clusterIdFile))
      writeFileSync(clusterIdFile, options.clusterId ?? randomBytes(16).toString('base64url'));
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
    const name = layout.clusterSize > 1 ? `kafka-${layout.nodeId}` : 'kafka';
    const bootstrap = `127.0.0.1:${layout.port}`;
    const launch = async () => {
      const broker = ManagedProcess.start({
        name,
        command: java,
        args: [`-Xms256m`, `-Xmx${heap}m`, '-XX:+UseG1GC', ...jvm, 'kafka.Kafka', properties],
        logFile: join(options.dataDir, 'kafka.log'),
        logger: options.logger,
      });
      try {
        await broker.waitUntilReady(() => (options.ready ?? KafkaBroker.answers)(bootstrap), 90_000);
      } catch (error) {
        await broker.kill();
        throw error;
      }
      options.logger.info(
        { bootstrap, node: layout.nodeId, pid: broker.pid, version: options.lock.kafka.version },
        'kafka ready',
      );
      return broker;
    };
    return new KafkaBroker(bootstrap, await launch(), launch);
  }

  /** True when the broker answers metadata requests. */
  static async answers(bootstrap: string): Promise<boolean> {
    return (await brokersSeen(bootstrap)) > 0;
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

  /** Starts the node again on the same ports and data (after stop or kill). */
  async restart(): Promise<void> {
    this.process = await this.relaunch();
  }
}

function brokerProperties(options: NodeLayout & { logDir: string }): string {
  const { nodeId, port, controllerPort, voters, clusterSize, logDir } = options;
  // Internal topics keep up to three copies, two of which must have a write: one node of a
  // cluster can be lost or restarted without losing offsets or transaction state.
  const copies = Math.min(3, clusterSize);
  const inSync = copies >= 3 ? 2 : 1;
  return [
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logDir}`,
    // Topics come from the project's topology; a typo in a topic name should fail, not create one.
    'auto.create.topics.enable=false',
    'num.partitions=6',
    `default.replication.factor=${copies}`,
    `min.insync.replicas=${inSync}`,
    `offsets.topic.replication.factor=${copies}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${copies}`,
    `transaction.state.log.min.isr=${inSync}`,
    'transaction.state.log.num.partitions=10',
    // A replica that falls behind (its node restarting) must not become leader and lose writes.
    'unclean.leader.election.enable=false',
    // Development settings: consumers join at once, and short session timeouts are allowed so a
    // killed stage's partitions move quickly.
    'group.initial.rebalance.delay.ms=0',
    'group.min.session.timeout.ms=1000',
    'log.segment.bytes=67108864',
    '',
  ].join('\n');
}

/** How many brokers a node reports in its cluster; 0 when it does not answer. */
export async function brokersSeen(bootstrap: string): Promise<number> {
  try {
    return await withBootstrapAdmin(
      bootstrap,
      async (admin) => (await admin.describeCluster()).brokers.length,
      { clientId: 'stack-probe', retries: 0 },
    );
  } catch {
    return 0;
  }
}
