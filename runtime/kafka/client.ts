import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Kafka, type KafkaConfig as KafkaJsConfig, type logCreator, logLevel } from 'kafkajs';
import { ConfigError, type KafkaConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { KafkaAdmin } from './admin.js';
import { withProducerPolicy } from './producer-policy.js';

/**
 * kafkajs warns about this whenever an idempotent producer has bounded retries. Our transactional
 * producers bound them on purpose: a transaction that fails is aborted and its producer discarded,
 * so the sequence-number concern behind the warning cannot arise.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer'];

/**
 * Routes kafkajs' own log lines into the process logger. kafkajs logs every retriable broker error
 * at ERROR before retrying it; those are warnings for us, and our code logs an error itself when
 * the retries run out.
 */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      const child = { component: 'kafkajs', ...fields };
      if (level === logLevel.ERROR || level === logLevel.WARN) {
        if (EXPECTED_WARNINGS.some((expected) => message.startsWith(expected))) logger.debug(child, message);
        else logger.warn(child, message);
      } else if (level === logLevel.INFO) logger.debug(child, message);
      else logger.trace(child, message);
    };
}

/** The first line of the fixed kafkajs send path (deploy/patches/kafkajs/sendMessages.js). */
const SEND_FIX_MARKER = '// emotion-stream patch: acknowledged per partition';
let sendFixChecked = false;

/**
 * Refuses to run on an unpatched kafkajs: its send resolves without writing the partitions whose
 * leader moved to a broker that had already answered (lost rows on a rolling restart, issue 21).
 * `npm ci` and the bootstrap apply the fix; an install with scripts off must run it itself.
 */
export function assertKafkaSendFix(): void {
  if (sendFixChecked) return;
  const path = createRequire(import.meta.url).resolve('kafkajs/src/producer/sendMessages.js');
  if (!readFileSync(path, 'utf8').startsWith(SEND_FIX_MARKER)) {
    throw new Error(
      `kafkajs is missing the project's send fix (${path}): run \`node deploy/patches/apply.mjs\`` +
        ' (npm ci runs it; an install with --ignore-scripts does not)',
    );
  }
  sendFixChecked = true;
}

/**
 * Every Kafka client of a service comes from here (Kafka Streams' KafkaClientSupplier): the admin
 * for callers outside this folder, and, through `kafkajsOf`, the consumers and producers that this
 * folder's modules build. Outside `runtime/kafka/` code holds a KafkaClients and speaks the seam's
 * types (records.ts, admin.ts), so the next client library changes this folder alone.
 */
export class KafkaClients {
  constructor(
    private readonly kafka: Kafka,
    readonly clientId: string,
    readonly config: KafkaConfig,
  ) {
    CLIENTS.set(this, kafka);
  }

  admin(): KafkaAdmin {
    return this.kafka.admin();
  }
}

const CLIENTS = new WeakMap<KafkaClients, Kafka>();

/**
 * The kafkajs client behind a KafkaClients: for this folder's modules, the tests' helpers and the
 * benches only.
 */
export function kafkajsOf(clients: KafkaClients): Kafka {
  const kafka = CLIENTS.get(clients);
  if (!kafka) throw new Error('not a KafkaClients made by createKafka');
  return kafka;
}

/** Builds the clients for a cluster, with TLS and SASL as configured. */
export function createKafka(config: KafkaConfig, logger: Logger, clientIdSuffix?: string): KafkaClients {
  if (!config.brokers) {
    throw new ConfigError(
      'KAFKA_BROKERS',
      'is required (comma-separated host:port list of the Kafka cluster)',
    );
  }
  assertKafkaSendFix();
  const clientId = clientIdSuffix ? `${config.clientId}-${clientIdSuffix}` : config.clientId;
  const options: KafkaJsConfig = {
    clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger),
    // Long enough to ride out a broker restart instead of crashing the service.
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
  };
  if (config.ssl) {
    options.ssl = config.sslCaFile ? { ca: [readFileSync(config.sslCaFile, 'utf8')] } : true;
  }
  if (config.sasl) {
    const { mechanism, username, password } = config.sasl;
    options.sasl = { mechanism, username, password } as KafkaJsConfig['sasl'];
  }
  // Every client can read LZ4 batches; producers compress as KAFKA_COMPRESSION says and keep each
  // request under KAFKA_MAX_REQUEST_BYTES.
  return new KafkaClients(withProducerPolicy(new Kafka(options), config), clientId, config);
}

/**
 * An admin client for a bootstrap address alone, without logs: for the local stack's readiness
 * checks (no retries: they ask until the cluster answers) and its provisioning.
 */
export async function withBootstrapAdmin<R>(
  bootstrap: string,
  work: (admin: KafkaAdmin) => Promise<R>,
  options: { clientId: string; connectionTimeoutMs?: number; retries?: number },
): Promise<R> {
  const admin = new Kafka({
    clientId: options.clientId,
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: options.connectionTimeoutMs ?? 1000,
    ...(options.retries === undefined ? {} : { retry: { retries: options.retries } }),
  }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
