import { ConfigError, type KafkaConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { KafkaAdmin } from './admin.js';
import { PlatformaticAdmin } from './platformatic-admin.js';
import { platformaticOptions } from './platformatic-options.js';

/**
 * Every Kafka client of a service comes from here (Kafka Streams' KafkaClientSupplier): the
 * connection settings (KAFKA_* through `config`) and a client id, from which this folder's modules
 * build their consumers and producers, and the admin for callers outside it. Outside
 * `runtime/kafka/` code holds a KafkaClients and speaks the seam's types (records.ts, admin.ts), so
 * the next client library changes this folder alone.
 */
export class KafkaClients {
  constructor(
    readonly clientId: string,
    readonly config: KafkaConfig,
    readonly logger: Logger,
  ) {}

  /** The connection settings of a client of this service, named `<clientId>-<role>`. */
  options(role?: string) {
    return platformaticOptions(this.config, role ? `${this.clientId}-${role}` : this.clientId);
  }

  admin(): KafkaAdmin {
    return new PlatformaticAdmin(this.options('admin'));
  }
}

/** Builds the clients for a cluster, with TLS and SASL as configured. */
export function createKafka(config: KafkaConfig, logger: Logger, clientIdSuffix?: string): KafkaClients {
  if (!config.brokers) {
    throw new ConfigError(
      'KAFKA_BROKERS',
      'is required (comma-separated host:port list of the Kafka cluster)',
    );
  }
  const clientId = clientIdSuffix ? `${config.clientId}-${clientIdSuffix}` : config.clientId;
  return new KafkaClients(clientId, config, logger);
}

/**
 * An admin client for a bootstrap address alone: for the local stack's readiness checks (few
 * retries: they ask until the cluster answers) and its provisioning.
 */
export async function withBootstrapAdmin<R>(
  bootstrap: string,
  work: (admin: KafkaAdmin) => Promise<R>,
  options: { clientId: string; connectionTimeoutMs?: number; retries?: number },
): Promise<R> {
  const admin = new PlatformaticAdmin({
    clientId: options.clientId,
    bootstrapBrokers: bootstrap.split(','),
    connectTimeout: options.connectionTimeoutMs ?? 1000,
    retries: options.retries ?? 3,
    retryDelay: 200,
  });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
