import { MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  hasErrorType,
  isFencingError,
  isKafkaRebalance,
  isTransientKafkaError,
} from '../../runtime/kafka/errors.js';

/** A broker's answer as the client reports it: one ProtocolError per failed part of a response. */
const answered = (...types: string[]) =>
  new MultipleErrors(
    'Received response with error while executing API',
    types.map((type) => new ProtocolError(type)),
  );

describe('reading @platformatic/kafka errors', () => {
  it('finds the protocol error types inside a MultipleErrors', () => {
    expect(hasErrorType(answered('PRODUCER_FENCED'), 'PRODUCER_FENCED')).toBe(true);
    expect(hasErrorType(new MultipleErrors('x', [new Error('other')]), 'PRODUCER_FENCED')).toBe(false);
  });

  it('tells a rebalance and fencing (KIP-447: an older generation) from other refusals', () => {
    expect(isKafkaRebalance(answered('ILLEGAL_GENERATION'))).toBe(true);
    expect(isKafkaRebalance(answered('REBALANCE_IN_PROGRESS'))).toBe(true);
    expect(isKafkaRebalance(answered('MESSAGE_TOO_LARGE'))).toBe(false);
    expect(isFencingError(answered('INVALID_PRODUCER_EPOCH'))).toBe(true);
    expect(isFencingError(answered('UNKNOWN_MEMBER_ID'))).toBe(true);
    expect(isFencingError(answered('NOT_COORDINATOR'))).toBe(false);
  });

  it('rides out Kafka being away or moving, not what a person must fix', () => {
    const refused = new NetworkError('Connection to 127.0.0.1:9092 failed.', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' }),
    });
    expect(isTransientKafkaError(refused)).toBe(true);
    expect(isTransientKafkaError(new MultipleErrors('Cannot connect to any broker.', [refused]))).toBe(true);
    expect(isTransientKafkaError(new TimeoutError('Request timed out.'))).toBe(true);
    expect(isTransientKafkaError(answered('NOT_LEADER_OR_FOLLOWER'))).toBe(true);
    expect(isTransientKafkaError(answered('COORDINATOR_NOT_AVAILABLE'))).toBe(true);
    expect(isTransientKafkaError(answered('TOPIC_AUTHORIZATION_FAILED'))).toBe(false);
    expect(isTransientKafkaError(answered('MESSAGE_TOO_LARGE'))).toBe(false);
    expect(
      isTransientKafkaError(new UserError('Cannot specify offsets when the stream mode is not MANUAL.')),
    ).toBe(false);
    expect(isTransientKafkaError(new TypeError('a bug'))).toBe(false);
    expect(isTransientKafkaError(new Error('schema not found'))).toBe(false);
  });
});
