import type { SinkLine, SinkRouter } from '../../runtime/sink/blob-files-writer.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import type { EmotionResult } from '../../schemas/index.js';

/** `YYYY-MM-DD` (UTC) of an epoch-ms time. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * `<topic>/dt=YYYY-MM-DD/stream=<id>`: the layout Hive, Spark, Synapse and DuckDB read as
 * partition columns. The date is the record's Kafka timestamp, so a replay of the same records
 * files them under the same dates. Stream ids are URL-encoded: a '/' in one must not add a level.
 */
export function emotionFileDir(root: string, result: EmotionResult, timestampMs: number): string {
  return `${root}/dt=${utcDate(timestampMs)}/stream=${encodeURIComponent(result.streamId)}`;
}

/** Each EmotionResult becomes one JSON line, filed by date and stream. */
export class EmotionFileRouter implements SinkRouter<EmotionResult> {
  constructor(private readonly root: string) {}

  async route(records: InputRecord<EmotionResult>[]): Promise<SinkLine[]> {
    return records.map((record) => ({
      dir: emotionFileDir(this.root, record.value, record.timestamp),
      line: JSON.stringify(record.value),
    }));
  }
}
