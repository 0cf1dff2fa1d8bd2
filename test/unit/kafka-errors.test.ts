import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  hasErrorType,
  isFencingError,
  isKafkaRebalance,
  isTransientKafkaError,
} from '../../runtime/kafka/errors.js';

/** kafkajs' own error classes, wrapped as its retrier wraps them (src/retry/index.js). */
const require = createRequire(import.meta.url);
const { createErrorFromCode } = require('kafkajs/src/protocol/error');
const {
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSConnectionError,
} = require('kafkajs/src/errors');
const ILLEGAL_GENERATION = 22;
const INVALID_PRODUCER_EPOCH = 47;
const bailed = (error: Error) => new KafkaJSNonRetriableError(error, { cause: error });
const exhausted = (error: Error) =>
  new KafkaJSNumberOfRetriesExceeded(error, { retryCount: 5, retryTime: 100 });

describe('reading kafkajs errors', () => {
  it('finds a rebalance inside the retrier wrappers (the blob sink exited on a wrapped commit error)', () => {
    const commit = createErrorFromCode(ILLEGAL_GENERATION);
    expect(isKafkaRebalance(commit)).toBe(true);
    expect(isKafkaRebalance(bailed(commit))).toBe(true);
    expect(isKafkaRebalance(exhausted(bailed(commit)))).toBe(true);
    expect(isKafkaRebalance(bailed(new Error('disk full')))).toBe(false);
  });

  it('finds fencing inside a wrapper, and tells Kafka being away from other failures', () => {
    expect(isFencingError(bailed(createErrorFromCode(INVALID_PRODUCER_EPOCH)))).toBe(true);
    const away = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(isTransientKafkaError(away)).toBe(true);
    expect(isTransientKafkaError(exhausted(away))).toBe(true);
    expect(isTransientKafkaError(new Error('schema not found'))).toBe(false);
    // The blob sink's range opening while the only broker restarted (chaos suite): the admin gave up.
    const { KafkaJSGroupCoordinatorNotFound } = require('kafkajs/src/errors');
    expect(
      isTransientKafkaError(bailed(new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator'))),
    ).toBe(true);
    expect(isTransientKafkaError(bailed(new Error('disk full')))).toBe(false);
  });
});

describe('reading @platformatic/kafka errors', () => {
  it('finds the protocol error types inside a MultipleErrors', async () => {
    const { MultipleErrors, ProtocolError } = await import('@platformatic/kafka');
    const fenced = new MultipleErrors('Received response with error', [new ProtocolError('PRODUCER_FENCED')]);
    expect(hasErrorType(fenced, 'PRODUCER_FENCED')).toBe(true);
    expect(hasErrorType(new MultipleErrors('x', [new Error('other')]), 'PRODUCER_FENCED')).toBe(false);
  });
});
