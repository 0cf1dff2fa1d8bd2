import type { Message, MessageToProduce } from '@platformatic/kafka';
import type { OutgoingRecord, PartitionRecord } from './records.js';

function bytes(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/** An outgoing record as @platformatic/kafka sends it (a repeated header keeps its last value). */
export function toProduce(topic: string, record: OutgoingRecord): MessageToProduce {
  // Header names too are bytes on the wire: the client serialises a Map's keys, not a plain object's.
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (last !== undefined) headers.set(Buffer.from(name), bytes(last));
  }
  return {
    topic,
    ...(record.key === undefined || record.key === null ? {} : { key: bytes(record.key) }),
    ...(record.value === null ? {} : { value: bytes(record.value) }),
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    ...(record.timestamp === undefined ? {} : { timestamp: BigInt(record.timestamp) }),
    headers,
  };
}

/** A consumed message in the seam's own type: header names as text, offset and timestamp as decimal strings. */
export function toPartitionRecord(message: Message<Buffer, Buffer, Buffer, Buffer>): PartitionRecord {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of message.headerEntries) headers[name.toString()] = value;
  return {
    partition: message.partition,
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    offset: message.offset.toString(),
    timestamp: message.timestamp.toString(),
  };
}
