/** What kafkajs errors mean for the caller, read from their protocol error type. */

/**
 * The protocol error type, looked for through the wrappers kafkajs' retrier puts around it
 * (KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded carry it in `cause`): an
 * ILLEGAL_GENERATION from a commit arrives wrapped, and the blob sink exited on it (cluster suite).
 */
function errorType(error: unknown): string | undefined {
  let current = error as { type?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    if (typeof current.type === 'string') return current.type;
    current = current.cause as typeof current;
  }
  return undefined;
}

export function isFencingError(error: unknown): boolean {
  const type = errorType(error);
  return (
    type === 'INVALID_PRODUCER_EPOCH' ||
    type === 'PRODUCER_FENCED' ||
    type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'
  );
}

/** kafkajs signals a rebalance by throwing from heartbeat(); it must reach kafkajs to rejoin. */
export function isKafkaRebalance(error: unknown): boolean {
  const type = errorType(error);
  return (
    type === 'REBALANCE_IN_PROGRESS' ||
    type === 'UNKNOWN_MEMBER_ID' ||
    type === 'ILLEGAL_GENERATION' ||
    (error as Error)?.name === 'KafkaJSFetcherRebalanceError'
  );
}

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
