import type { Consumer, Kafka } from 'kafkajs';
import type { StageConfig } from '../config/index.js';
import type { Logger } from '../logger.js';

/** kafkajs errors that say Kafka is unreachable or moving (a broker down, a leader election). */
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
]);

/** True for an error that comes from Kafka being away, not from something only a person can fix. */
export function isTransientKafkaError(error: unknown): boolean {
  const e = error as { name?: string; retriable?: boolean; cause?: unknown; type?: string } | undefined;
  if (!e) return false;
  if (e.type === 'TOPIC_AUTHORIZATION_FAILED' || e.type === 'GROUP_AUTHORIZATION_FAILED') return false;
  // kafkajs wraps the last error of a retry loop: KafkaJSNumberOfRetriesExceeded, its cause inside.
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return isTransientKafkaError(e.cause);
  return e.retriable === true || TRANSIENT_NAMES.has(e.name ?? '');
}

/**
 * The consumer of a service that does work for its group (a stage, a sink): read_committed and the
 * configured liveness settings. When Kafka is away (a broker down, a leader election) it restarts
 * itself in-process: reconnects, rejoins its group and goes on from the committed offsets, for up
 * to `kafkaOutageMaxMs` from the first failure (issue 21: the services used to exit and rely on a
 * supervisor). Any other error, or an outage longer than that, crashes it, and the service exits
 * for its orchestrator to restart with a clean state. Its CRASH event says which (`restart`).
 */
export function workConsumer(kafka: Kafka, groupId: string, settings: StageConfig): Consumer {
  let outageSince: number | undefined;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(60_000, settings.sessionTimeoutMs),
    retry: {
      retries: 8,
      restartOnFailure: async (error) => {
        if (!isTransientKafkaError(error)) return false;
        outageSince ??= Date.now();
        return Date.now() - outageSince < settings.kafkaOutageMaxMs;
      },
    },
  });
  // Back in its group: the outage is over.
  consumer.on(consumer.events.GROUP_JOIN, () => {
    outageSince = undefined;
  });
  return consumer;
}

/**
 * Wires a work consumer's CRASH event: a restart it does by itself (Kafka away) is logged as a
 * warning and ridden out; any other crash is the service's failure (`crashed`).
 */
export function onConsumerCrash(consumer: Consumer, log: Logger, crashed: (error: Error) => void): void {
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    if (restart) {
      log.warn({ err: error }, 'Kafka unreachable; the consumer restarts and rejoins its group');
      return;
    }
    log.error({ err: error }, 'consumer crashed');
    crashed(error);
  });
}
