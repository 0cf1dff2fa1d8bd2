import { headersAsStrings } from '../kafka/dead-letter.js';
import type { ConsumedRecord } from '../kafka/records.js';
import type { InputRecord } from './types.js';

/** A consumed message with its decoded value, as stage handlers and sink routers see it. */
export function inputRecordOf<T>(
  topic: string,
  partition: number,
  message: ConsumedRecord,
  value: T,
): InputRecord<T> {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value,
    timestamp: Number(message.timestamp),
    headers: headersAsStrings(message.headers),
  };
}
