/** What kafkajs errors mean for the caller, read from their protocol error type. */

function errorType(error: unknown): string | undefined {
  const type = (error as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' ? type : undefined;
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
