import type { OutgoingRecord } from './records.js';

/** The records of one send for one topic. */
export interface TopicRecords {
  topic: string;
  messages: OutgoingRecord[];
}

/**
 * Bytes a record adds to a produce request before compression: key, value and headers, plus
 * the record's own framing (length, attributes, timestamp and offset deltas, header counts: at
 * most about 30 bytes of varints in the v2 record format, KIP-98).
 */
export function recordBytes(message: OutgoingRecord): number {
  let bytes = 30 + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += 10 + Buffer.byteLength(name);
    if (Array.isArray(value)) for (const item of value) bytes += byteLength(item);
    else bytes += byteLength(value);
  }
  return bytes;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/**
 * Splits what one send would write into consecutive sends of at most `maxBytes` of records each,
 * keeping every topic's order. A client writes all of a send's records for one partition as one
 * record batch (kafkajs did, and @platformatic/kafka does), and the broker refuses a batch over `message.max.bytes` (1,048,588 by default)
 * with MESSAGE_TOO_LARGE; retrying the same batch then fails forever. The Java producer never
 * builds such a batch (`batch.size`, `max.request.size`). Measured: a stage batch of 5,000
 * emotion results (about 880 bytes each) stalled the pipeline bench on exactly this.
 * A single record over the bound is sent on its own, for the broker to refuse with its own error.
 */
export function splitBySize(topicMessages: TopicRecords[], maxBytes: number): TopicRecords[][] {
  // Nearly every send fits: hand it back as it is, without copying its records into new lists.
  let total = 0;
  for (const { messages } of topicMessages) for (const message of messages) total += recordBytes(message);
  if (total <= maxBytes) return topicMessages.length > 0 ? [topicMessages] : [];
  const requests: TopicRecords[][] = [];
  let current: TopicRecords[] = [];
  let currentBytes = 0;
  const add = (topic: string, message: OutgoingRecord) => {
    const last = current[current.length - 1];
    if (last?.topic === topic) last.messages.push(message);
    else current.push({ topic, messages: [message] });
  };
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const bytes = recordBytes(message);
      if (currentBytes > 0 && currentBytes + bytes > maxBytes) {
        requests.push(current);
        current = [];
        currentBytes = 0;
      }
      add(topic, message);
      currentBytes += bytes;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}
