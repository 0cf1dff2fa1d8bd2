/**
 * The records the rest of the code hands to and gets from Kafka, in types of our own: nothing
 * outside `runtime/kafka/` names the client library. Their shapes are the common ground of Kafka
 * clients (offsets and timestamps as decimal strings, as they travel in the protocol's JSON-free
 * clients, so a 64-bit offset never passes through a float).
 */

/** Header values: bytes or text; a name repeated in one record gives an array. */
export type RecordHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

/** A record read from one partition. */
export interface ConsumedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeaders;
  offset: string;
  /** When it was written (epoch ms), as a decimal string. */
  timestamp: string;
}

/** A consumed record with the partition it was read from. */
export interface PartitionRecord extends ConsumedRecord {
  partition: number;
}

/** A record to write; without a partition, the key's murmur2 hash chooses it as Java clients do. */
export interface OutgoingRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeaders;
  partition?: number;
  timestamp?: string;
}

/** What one transaction or send writes: the records for each topic. */
export type RecordsByTopic = Map<string, OutgoingRecord[]>;

/** Offsets of one topic's partitions, as decimal strings. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** The partitions a group member owns, per topic. */
export type Assignment = Record<string, number[]>;
