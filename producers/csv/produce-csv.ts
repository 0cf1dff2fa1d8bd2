import { randomUUID } from 'node:crypto';
import { recordTraces } from '../../runtime/tracing/record-spans.js';
import { type KeyedSegment, newTextSegment, type SegmentProducer } from '../segment-producer.js';
import { type CsvColumns, CsvInputError, inspectCsvFile } from './csv-input.js';
import { type CsvLayout, csvLayout, readCsvRecords, rowOutcome } from './csv-rows.js';

export { MAX_TEXT_CHARS } from './csv-rows.js';

export interface ProduceCsvOptions extends CsvColumns {
  file: string;
  /** Stream id of every row; defaults to `csv:<file name>`. */
  streamId?: string | undefined;
  /** Job id; a new UUID by default. Row ids without an id column are `<jobId>:<line>`. */
  jobId?: string | undefined;
  /** Language hint (ISO 639-1) for every row; detected per row when absent. */
  language?: string | undefined;
  /** Rows per Kafka send. */
  batchSize?: number;
  /**
   * The trace context of what sends the file (the upload's request, the CLI command): each row
   * opens a trace of its own linked to it (recordTraces).
   */
  traceHeaders?: Record<string, string>;
  onProgress?: (progress: { bytesRead: number; bytes: number; produced: number; skipped: number }) => void;
}

export interface SkippedRow {
  /** 1-based line of the row in the file. */
  line: number;
  reason: string;
}

export interface ProduceCsvResult {
  jobId: string;
  produced: number;
  skipped: number;
  /** The first skipped rows, with why (at most 100 kept). */
  skippedRows: SkippedRow[];
}

const MAX_REPORTED_SKIPS = 100;
/** A send is cut at this many characters of text, well under Kafka's 1 MB per partition batch. */
const MAX_BATCH_CHARS = 200_000;

/**
 * Streams a CSV of any size into the producer, a batch at a time (constant memory: the parser is
 * read only as fast as Kafka acknowledges). The file is checked first: a file that is empty, not
 * text, or lacks the columns fails before anything is produced. Rows with empty text are skipped
 * and reported, never silently dropped. A row's position (`seq`) counts the rows produced, so the
 * results file can line each result up with its row (csv-rows.ts).
 */
export async function produceCsv(
  producer: SegmentProducer,
  options: ProduceCsvOptions,
): Promise<ProduceCsvResult> {
  const { bytes } = await inspectCsvFile(options.file, options);
  const jobId = options.jobId ?? randomUUID();
  const streamId = options.streamId ?? `csv:${options.file.split('/').pop()}`;
  const batchSize = options.batchSize ?? 500;
  const { input, rows, header } = readCsvRecords(options.file);
  const result: ProduceCsvResult = { jobId, produced: 0, skipped: 0, skippedRows: [] };
  const skip = (line: number, reason: string) => {
    result.skipped += 1;
    if (result.skippedRows.length < MAX_REPORTED_SKIPS) result.skippedRows.push({ line, reason });
  };
  let batch: KeyedSegment[] = [];
  let batchChars = 0;
  let seq = 0;
  let layout: CsvLayout | undefined;
  const traceOf = recordTraces(producer.topic, options.traceHeaders ?? {});
  const flush = async () => {
    await producer.send(batch, 'produce-csv');
    result.produced += batch.length;
    batch = [];
    batchChars = 0;
    options.onProgress?.({
      bytesRead: input.bytesRead,
      bytes,
      produced: result.produced,
      skipped: result.skipped,
    });
  };
  try {
    for await (const record of rows) {
      layout ??= csvLayout(await header, options);
      const outcome = rowOutcome(record, layout, jobId);
      if (outcome.kind === 'skip') {
        skip(record.line, outcome.reason);
        continue;
      }
      const { id, text } = outcome;
      batch.push({
        key: id,
        headers: traceOf(),
        segment: newTextSegment({
          id,
          streamId,
          seq: seq++,
          origin: 'CSV',
          text,
          language: options.language ?? null,
          jobId,
        }),
      });
      batchChars += text.length;
      if (batch.length >= batchSize || batchChars >= MAX_BATCH_CHARS) await flush();
    }
  } catch (error) {
    if (error instanceof CsvInputError) throw error;
    const code = (error as { code?: string }).code;
    if (code?.startsWith('CSV_')) {
      throw new CsvInputError(
        `${options.file}: ${(error as Error).message} (${result.produced} rows before it were produced, job ${jobId})`,
      );
    }
    throw error;
  }
  await flush();
  return result;
}
