import { RetryableError } from '../errors.js';
import type { InputRecord } from '../stage/types.js';

/** The records of one partition a flush covers: offsets `from` to `to`, both included. */
export interface SinkRange {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
}

/** One prepared record of a range, with the offset it came from. */
export interface RangeItem<P> {
  offset: bigint;
  item: P;
}

/** What a write put in storage: the names of what it wrote (files, tables) and their size. */
export interface WriteResult {
  names: string[];
  bytes: number;
}

/**
 * Where a range's end is recorded before its writes, for writers whose output is named by range
 * (files): after a crash, a rebalance or a replay the sink finds the end chosen the first time and
 * cuts the same range again, so a rewrite overwrites instead of adding. See RangeIntents.
 */
export interface RangeLedger {
  /** The end recorded for a range starting at `from`, if one was ever chosen. */
  find(partition: number, from: bigint): Promise<bigint | undefined>;
  /** Records `to` as the end unless one was chosen already; returns the end in force. */
  claim(partition: number, from: bigint, to: bigint): Promise<bigint>;
}

/**
 * The one thing a sink supplies (issue 20, after Quix Streams' BatchingSink): the loop in
 * BatchingSink consumes, decodes, buffers, dead-letters and commits; a writer only says how records
 * become items and how a range of items is stored.
 *
 * The contract that makes the sink exactly-once: writing a range is **idempotent**. The sink commits
 * a range's offsets only after `write` resolves; a crash in between means the range is written
 * again, and that second write must leave storage as the first did. Writers get there either by
 * naming output after the range (files, with a `ledger` so the range is cut the same way again) or by
 * keying every item on its source offset (a table's primary key, no ledger needed).
 *
 * Errors: RetryableError (or WriterBusyError) while storage is away or full is waited out; any
 * other error from `prepare` marks a record for the dead-letter topic (found by retrying one by one);
 * any other error from `write` stops the sink.
 */
export interface SinkWriter<T, P> {
  /** What the writer writes to, for logs and the health check (e.g. 'blob', 'postgres'). */
  readonly target: string;
  /** Present when output is named by range (see RangeLedger). */
  readonly ledger?: RangeLedger;
  /** Connects and creates what is missing (a container, a table). */
  open(): Promise<void>;
  /** One item per record, in order (null writes nothing for it). */
  prepare(records: InputRecord<T>[]): Promise<Array<P | null>>;
  /** Bytes an item adds to the buffer (flushBytes). */
  sizeOf(item: P): number;
  write(range: SinkRange, items: RangeItem<P>[]): Promise<WriteResult>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Backpressure: the destination cannot take more now (throttled, a pool exhausted) and says when to
 * come back. The sink waits `retryAfterMs` instead of its own backoff, then writes the range again.
 */
export class WriterBusyError extends RetryableError {
  override readonly name = 'WriterBusyError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
