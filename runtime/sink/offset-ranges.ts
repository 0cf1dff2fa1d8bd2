import type { BlobStore } from '../blob/blob-store.js';

/** Offsets padded to a fixed width, so blob names sort in offset order. */
export function paddedOffset(offset: bigint): string {
  return offset.toString().padStart(20, '0');
}

/** `part-<partition>-<from>-<to>.jsonl`: the range a file holds names it, so rewriting it is idempotent. */
export function rangeFileName(partition: number, from: bigint, to: bigint): string {
  return `part-${String(partition).padStart(4, '0')}-${paddedOffset(from)}-${paddedOffset(to)}.jsonl`;
}

interface RangeIntent {
  partition: number;
  from: string;
  to: string;
  writtenAtMs: number;
}

/**
 * Where each of a partition's file ranges ends, written before the files of the range. A range
 * starts where the previous one ended (or at the committed offset), so after a crash, a rebalance
 * or a replay the sink finds the end it chose the first time and cuts the same files with the
 * same names, which overwrite instead of duplicating. Created only if absent: two owners of a
 * partition (a zombie and its successor) always agree on the first writer's end.
 */
export class RangeIntents {
  constructor(
    private readonly store: BlobStore,
    /** e.g. `_sink/emotions/emotion-stream.blob-sink` */
    private readonly prefix: string,
  ) {}

  private name(partition: number, from: bigint): string {
    return `${this.prefix}/p${String(partition).padStart(4, '0')}/${paddedOffset(from)}.json`;
  }

  /** The end recorded for a range starting at `from`, if one was ever chosen. */
  async find(partition: number, from: bigint): Promise<bigint | undefined> {
    const intent = await this.store.getJson<RangeIntent>(this.name(partition, from));
    return intent ? BigInt(intent.to) : undefined;
  }

  /** Records `to` as the end of the range, unless an end was chosen already; returns the end in force. */
  async claim(partition: number, from: bigint, to: bigint): Promise<bigint> {
    const intent: RangeIntent = {
      partition,
      from: from.toString(),
      to: to.toString(),
      writtenAtMs: Date.now(),
    };
    const created = await this.store.put(this.name(partition, from), JSON.stringify(intent), {
      contentType: 'application/json',
      onlyIfAbsent: true,
    });
    if (created) return to;
    const existing = await this.find(partition, from);
    if (existing === undefined) throw new Error(`range intent ${this.name(partition, from)} vanished`);
    return existing;
  }
}
