/** What kafkajs errors mean for the caller, read from their protocol error type. */

/**
 * The protocol error types an error carries, looked for through the wrappers both clients put
 * around them: kafkajs' retrier (KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded carry it
 * in `cause`: an ILLEGAL_GENERATION from a commit arrives wrapped, and the blob sink exited on it)
 * and @platformatic/kafka's (`apiId` on a ProtocolError, several of them in a MultipleErrors'
 * `errors`).
 */
function errorTypes(error: unknown, depth = 0): string[] {
  const current = error as { type?: unknown; apiId?: unknown; cause?: unknown; errors?: unknown } | undefined;
  if (!current || typeof current !== 'object' || depth > 5) return [];
  const own = [current.type, current.apiId].filter((value): value is string => typeof value === 'string');
  const nested = [current.cause, ...(Array.isArray(current.errors) ? current.errors : [])];
  return [...own, ...nested.flatMap((inner) => errorTypes(inner, depth + 1))];
}

function errorType(error: unknown): string | undefined {
  return errorTypes(error)[0];
}

/** True when the error carries any of the protocol error types. */
export function hasErrorType(error: unknown, ...types: string[]): boolean {
  return errorTypes(error).some((type) => types.includes(type));
}

/**
 * Another producer or group member has taken over: a newer epoch of the transactional id, or
 * (KIP-447) offsets refused because they come from an older generation of the group.
 */
export function isFencingError(error: unknown): boolean {
  return hasErrorType(
    error,
    'INVALID_PRODUCER_EPOCH',
    'PRODUCER_FENCED',
    'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    'ILLEGAL_GENERATION',
    'UNKNOWN_MEMBER_ID',
    'FENCED_INSTANCE_ID',
    'REBALANCE_IN_PROGRESS',
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
  // kafkajs wraps the last error of a retry loop (KafkaJSNumberOfRetriesExceeded) and an error its
  // retrier gave up on (KafkaJSNonRetriableError), their cause inside: a coordinator not found
  // while the only broker restarted arrived as the latter, and the blob sink exited (chaos suite).
  if (e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSNonRetriableError') {
    return e.cause !== undefined && isTransientKafkaError(e.cause);
  }
  return e.retriable === true || TRANSIENT_NAMES.has(e.name ?? '');
}
