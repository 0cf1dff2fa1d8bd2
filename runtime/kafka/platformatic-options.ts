import { readFileSync } from 'node:fs';
import type { BaseOptions, SASLMechanismValue } from '@platformatic/kafka';
import { ConfigError, type KafkaConfig, type SaslMechanism } from '../config/index.js';

const SASL: Record<SaslMechanism, SASLMechanismValue> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

/**
 * 20 ms, then doubling up to 2 s. The client's fixed default of 1 s paced a transactional hop at one
 * transaction a second on CONCURRENT_TRANSACTIONS right after a commit; the Java producer retries
 * that error after 20 ms (bench/platformatic-passthrough.ts measured both).
 */
function retryDelayMs(_client: object, _operation: string, attempt: number): number {
  return Math.min(2000, 20 * 2 ** Math.max(0, attempt - 1));
}

/**
 * The connection settings of every @platformatic/kafka client, from the same KAFKA_* variables as
 * the rest: brokers, TLS with an optional CA file, SASL, timeouts.
 */
export function platformaticOptions(config: KafkaConfig, clientId: string): BaseOptions {
  if (!config.brokers) {
    throw new ConfigError(
      'KAFKA_BROKERS',
      'is required (comma-separated host:port list of the Kafka cluster)',
    );
  }
  const options: BaseOptions = {
    clientId,
    bootstrapBrokers: config.brokers,
    connectTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    // About 10 s in all, long enough to ride out a leader election; a broker away for longer is
    // the caller's outage to handle.
    retries: 12,
    retryDelay: retryDelayMs,
  };
  if (config.ssl) options.tls = config.sslCaFile ? { ca: readFileSync(config.sslCaFile, 'utf8') } : {};
  if (config.sasl) {
    const { mechanism, username, password } = config.sasl;
    options.sasl = { mechanism: SASL[mechanism], username, password };
  }
  return options;
}
