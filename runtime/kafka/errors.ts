/** What Kafka client errors mean for the caller, read from what they carry. */

export interface ErrorNode {
  type?: unknown;
  apiId?: unknown;
  code?: unknown;
  canRetry?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * The error and every error it wraps: @platformatic/kafka puts a broker's answer in a
 * ProtocolError (`apiId`, `canRetry`), several of them in a MultipleErrors' `errors`, and a failed
 * connection in a NetworkError's `cause`.
 */
export function errorTree(error: unknown, depth = 0): ErrorNode[] {
  const current = error as ErrorNode | undefined;
  if (!current || typeof current !== 'object' || depth > 5) return [];
  const nested = [current.cause, ...(Array.isArray(current.errors) ? current.errors : [])];
  return [current, ...nested.flatMap((inner) => errorTree(inner, depth + 1))];
}

/** The protocol error types (UNKNOWN_MEMBER_ID, …) an error carries. */
function errorTypes(error: unknown): string[] {
  return errorTree(error).flatMap((node) =>
    [node.type, node.apiId].filter((value): value is string => typeof value === 'string'),
  );
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

/** The group moved on (a rebalance): the member's partitions may have changed. */
export function isKafkaRebalance(error: unknown): boolean {
  return hasErrorType(error, 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION');
}

/** Refusals only a person can fix, however retriable the client thinks they are. */
const PERMANENT_TYPES = [
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
];

/** The client's errors for a broker that cannot be reached or did not answer in time. */
const UNREACHABLE_CODES = new Set([
  'PLT_KFK_NETWORK',
  'PLT_KFK_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

/** True for an error that comes from Kafka being away or moving (a broker down, a leader election). */
export function isTransientKafkaError(error: unknown): boolean {
  if (!error || hasErrorType(error, ...PERMANENT_TYPES)) return false;
  return errorTree(error).some(
    (node) => node.canRetry === true || (typeof node.code === 'string' && UNREACHABLE_CODES.has(node.code)),
  );
}
