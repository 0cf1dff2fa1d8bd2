import type { Message, MessageToProduce } from '@platformatic/kafka';
import type { OutgoingRecord, PartitionRecord } from './records.js';

function bytes(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/**
 * An outgoing record as @platformatic/kafka sends it (a repeated header keeps its last value). A
 * record without headers gets no Map: the client writes a missing one as zero headers
 * (protocol/writer.js, appendVarIntMap), and every object made here lives until the produce request
 * is written.
 */
export function toProduce(topic: string, record: OutgoingRecord): MessageToProduce {
  const message: MessageToProduce = { topic };
  if (record.key !== undefined && record.key !== null) message.key = bytes(record.key);
  if (record.value !== null) message.value = bytes(record.value);
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.timestamp !== undefined) message.timestamp = BigInt(record.timestamp);
  let headers: Map<Buffer, Buffer> | undefined;
  for (const name in record.headers) {
    const value = record.headers[name];
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (last === undefined) continue;
    headers ??= new Map();
    // Header names too are bytes on the wire: the client serialises a Map's keys, not a plain object's.
    headers.set(Buffer.from(name), bytes(last));
  }
  if (headers) message.headers = headers;
  return message;
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
