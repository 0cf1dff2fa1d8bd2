/**
 * Failure classes shared by every stage. The stage loop decides what to do with a record from the
 * class of the error alone: retry the whole batch later, or dead-letter one record and go on.
 */

/** Something the batch needs is unavailable right now (an engine, the registry): retry later. */
export class RetryableError extends Error {
  override readonly name: string = 'RetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** This record can never be processed as it is (bad bytes, wrong schema, rejected content). */
export class UnprocessableRecordError extends Error {
  override readonly name: string = 'UnprocessableRecordError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** True for errors that say "not now" rather than "never": worth a retry with backoff. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RetryableError) return true;
  if (error instanceof UnprocessableRecordError) return false;
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { code?: unknown; retriable?: unknown; cause?: unknown; name?: unknown };
  if (candidate.retriable === true) return true;
  if (typeof candidate.code === 'string' && TRANSIENT_CODES.has(candidate.code)) return true;
  if (candidate.name === 'KafkaJSConnectionError' || candidate.name === 'KafkaJSRequestTimeoutError')
    return true;
  return candidate.cause !== undefined && candidate.cause !== error && isRetryable(candidate.cause);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
