import type { BlobStore } from '../blob/blob-store.js';
import { mapConcurrent } from '../concurrency.js';
import type { InputRecord } from '../stage/types.js';
import { RangeIntents, rangeFileName } from './offset-ranges.js';
import type { RangeItem, SinkRange, SinkWriter, WriteResult } from './sink-writer.js';

/** Where one record's line goes: a blob "directory" (no trailing slash) and the JSON text. */
export interface SinkLine {
  dir: string;
  line: string;
}

/**
 * Turns consumed records into lines, one entry per record (null writes nothing for it). Throws a
 * RetryableError while something it needs is unavailable; rejects a bad record with
 * UnprocessableRecordError, which sends it to the dead-letter topic.
 */
export interface SinkRouter<T> {
  route(records: InputRecord<T>[]): Promise<Array<SinkLine | null>>;
}

const UPLOAD_CONCURRENCY = 8;

/**
 * Writes a range as JSON Lines files in Blob, one per directory the router chose, each named after
 * the range (`<dir>/part-<partition>-<from>-<to>.jsonl`); the range's end is recorded first
 * (RangeIntents), so writing a range again overwrites the same files.
 */
export class BlobFilesWriter<T> implements SinkWriter<T, SinkLine> {
  readonly target = 'blob';
  readonly ledger: RangeIntents;

  constructor(
    readonly store: BlobStore,
    private readonly router: SinkRouter<T>,
    /** Where the range ends are kept, e.g. `_sink/<group>/<topic>`. */
    ledgerPrefix: string,
  ) {
    this.ledger = new RangeIntents(store, ledgerPrefix);
  }

  open(): Promise<void> {
    return this.store.ensureContainer();
  }

  prepare(records: InputRecord<T>[]): Promise<Array<SinkLine | null>> {
    return this.router.route(records);
  }

  sizeOf(line: SinkLine): number {
    return Buffer.byteLength(line.line) + 1;
  }

  async write(range: SinkRange, items: RangeItem<SinkLine>[]): Promise<WriteResult> {
    const files = new Map<string, string[]>();
    for (const { item } of items) {
      const lines = files.get(item.dir) ?? [];
      lines.push(item.line);
      files.set(item.dir, lines);
    }
    const fileName = rangeFileName(range.partition, range.from, range.to);
    const names = [...files.keys()].map((dir) => `${dir}/${fileName}`);
    const bodies = [...files.values()].map((lines) => `${lines.join('\n')}\n`);
    await mapConcurrent(names, UPLOAD_CONCURRENCY, (name, i) =>
      this.store.put(name, bodies[i]!, { contentType: 'application/x-ndjson' }),
    );
    return { names, bytes: bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0) };
  }

  ping(): Promise<boolean> {
    return this.store.ping();
  }

  async close(): Promise<void> {}
}
