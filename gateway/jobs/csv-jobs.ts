import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Registry } from 'prom-client';
import * as prom from 'prom-client';
import { inspectCsvFile } from '../../producers/csv/csv-input.js';
import { type CsvLayout, csvLayout, readCsvRecords, rowOutcome } from '../../producers/csv/csv-rows.js';
import { produceCsv, type SkippedRow } from '../../producers/csv/produce-csv.js';
import type { SegmentProducer } from '../../producers/segment-producer.js';
import { errorMessage } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { EmotionResult } from '../../schemas/index.js';
import { ResultSlots } from './result-slots.js';
import { resultsCsvHeader, resultsCsvLine } from './results-csv.js';

export type CsvJobState = 'producing' | 'processing' | 'done' | 'failed';

export interface CsvJobStatus {
  jobId: string;
  state: CsvJobState;
  fileName: string;
  streamId: string;
  createdAt: string;
  finishedAt: string | null;
  /** Rows sent into the pipeline so far. */
  rowsIn: number;
  rowsSkipped: number;
  /** Rows with a result so far. */
  resultsOut: number;
  /** The first skipped rows with why (line numbers are the file's). */
  skippedRows: SkippedRow[];
  error: string | null;
}

export interface CsvUpload {
  /** The uploaded file, spooled to disk; the job owns it from here on. */
  file: string;
  fileName: string;
  textColumn: string;
  idColumn?: string | undefined;
  language?: string | undefined;
  streamId?: string | undefined;
  /** The upload request's trace context, linked from each row's own trace. */
  traceHeaders?: Record<string, string>;
}

/** A growable bitset over row positions: which rows have a result (a replay may add a second one). */
class RowSet {
  private bits = new Uint8Array(1024);
  size = 0;

  add(row: number): boolean {
    if (row < 0 || !Number.isSafeInteger(row)) return false;
    const byte = row >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (row & 7);
    if (this.bits[byte]! & mask) return false;
    this.bits[byte]! |= mask;
    this.size += 1;
    return true;
  }
}

interface Job {
  status: CsvJobStatus;
  upload: CsvUpload;
  rows: RowSet;
  /** Results by row position, as they arrive (result-slots.ts). */
  slots: ResultSlots;
  /** The chain of slot writes (never rejects); the results file is written once it has settled. */
  writes: Promise<void>;
  /** The first slot write that failed (a full disk): the job fails with it. */
  writeError: unknown;
  resultsPath: string;
  produced: boolean;
  finished: Promise<void> | undefined;
}

/** Jobs that finished longer ago than this are forgotten and their files deleted. */
const JOB_RETENTION_MS = 24 * 3_600_000;

/**
 * CSV jobs accepted by this gateway instance: each upload is checked, streamed into segments.raw
 * in the background, and its results (seen on the gateway's feed of `emotions`) are stored by row
 * as they arrive, so progress and the download cost no extra read of Kafka. Once every row has
 * its result, the results file is written: the upload's rows in the file's order, every column
 * carried, each row's result after them (issue 19). A job lives on the instance that accepted
 * it; see gateway/README.md.
 */
export class CsvJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly accepted: prom.Counter;
  private readonly rowsCounter: prom.Counter;

  constructor(
    private readonly options: { dir: string; producer: SegmentProducer; logger: Logger; metrics: Registry },
  ) {
    mkdirSync(options.dir, { recursive: true });
    const registers = [options.metrics];
    this.accepted = new prom.Counter({
      name: 'gateway_csv_jobs_total',
      help: 'CSV jobs by how they ended',
      labelNames: ['state'],
      registers,
    });
    this.rowsCounter = new prom.Counter({
      name: 'gateway_csv_rows_total',
      help: 'CSV rows sent into the pipeline',
      registers,
    });
  }

  /** A fresh job id and the directory its files go in. */
  newJobDirectory(): { jobId: string; dir: string } {
    const jobId = randomUUID();
    const dir = join(this.options.dir, jobId);
    mkdirSync(dir, { recursive: true });
    return { jobId, dir };
  }

  /**
   * Checks the upload (throws CsvInputError with the reason when it cannot be a job) and starts
   * producing its rows; resolves as soon as the job exists.
   */
  async accept(jobId: string, dir: string, upload: CsvUpload): Promise<CsvJobStatus> {
    this.forgetOldJobs();
    await inspectCsvFile(upload.file, { ...upload, settingNames: { text: 'textColumn', id: 'idColumn' } });
    const job: Job = {
      status: {
        jobId,
        state: 'producing',
        fileName: upload.fileName,
        streamId: upload.streamId ?? `csv:${upload.fileName}`,
        createdAt: new Date().toISOString(),
        finishedAt: null,
        rowsIn: 0,
        rowsSkipped: 0,
        resultsOut: 0,
        skippedRows: [],
        error: null,
      },
      upload,
      rows: new RowSet(),
      slots: await ResultSlots.create(join(dir, 'results.slots')),
      writes: Promise.resolve(),
      writeError: undefined,
      resultsPath: join(dir, 'results.csv'),
      produced: false,
      finished: undefined,
    };
    this.jobs.set(jobId, job);
    void this.produce(job, upload);
    return { ...job.status };
  }

  get(jobId: string): CsvJobStatus | undefined {
    const job = this.jobs.get(jobId);
    return job && { ...job.status, skippedRows: [...job.status.skippedRows] };
  }

  /**
   * The job's results file: once the job is finished, the file written then; before, with
   * `partial`, the rows so far (rows still without a result have empty result columns).
   */
  async results(jobId: string): Promise<Readable | undefined> {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    if (job.status.finishedAt !== null) return createReadStream(job.resultsPath);
    await job.writes;
    return Readable.from(this.resultLines(job));
  }

  /** Every committed result the gateway sees; those of this instance's jobs are recorded. */
  onResult(result: EmotionResult): void {
    if (result.jobId === null) return;
    const job = this.jobs.get(result.jobId);
    if (!job || job.finished || !job.rows.add(result.seq)) return;
    job.writes = job.writes
      .then(() => job.slots.write(result.seq, result))
      .catch((error: unknown) => {
        job.writeError ??= error;
      });
    job.status.resultsOut = job.rows.size;
    this.finishIfComplete(job);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.jobs.values()].map(async (job) => {
        await job.finished;
        await job.writes;
        await job.slots.close().catch(() => {});
      }),
    );
  }

  /**
   * The results file, line by line: the upload read again in its order, each row beside its
   * result (the same rows get the same ids and positions as when they were produced:
   * producers/csv/csv-rows.ts). Memory stays constant whatever the file's size.
   */
  private async *resultLines(job: Job): AsyncGenerator<string, void, void> {
    const { rows, header } = readCsvRecords(job.upload.file);
    const slots = job.slots.inOrder();
    let layout: CsvLayout | undefined;
    let seq = 0;
    try {
      for await (const record of rows) {
        if (!layout) {
          layout = csvLayout(await header, job.upload);
          yield resultsCsvHeader(layout.header);
        }
        const outcome = rowOutcome(record, layout, job.status.jobId);
        if (outcome.kind === 'skip') {
          yield resultsCsvLine(record.cells, layout.header.length, { outcome, seq: null }, null);
        } else {
          const result = (await slots.next()).value ?? null;
          yield resultsCsvLine(record.cells, layout.header.length, { outcome, seq: seq++ }, result);
        }
      }
    } catch (error) {
      // A job that failed on a malformed row has no rows past it: the file ends there.
      if (!(error as { code?: string }).code?.startsWith('CSV_')) throw error;
    } finally {
      await slots.return();
    }
    if (!layout) yield resultsCsvHeader(await header);
  }

  private async produce(job: Job, upload: CsvUpload): Promise<void> {
    const { status } = job;
    try {
      const produced = await produceCsv(this.options.producer, {
        ...upload,
        streamId: status.streamId,
        jobId: status.jobId,
        onProgress: (progress) => {
          this.rowsCounter.inc(progress.produced - status.rowsIn);
          status.rowsIn = progress.produced;
          status.rowsSkipped = progress.skipped;
        },
      });
      status.rowsIn = produced.produced;
      status.rowsSkipped = produced.skipped;
      status.skippedRows = produced.skippedRows;
      job.produced = true;
      status.state = 'processing';
      this.options.logger.info(
        { jobId: status.jobId, rows: produced.produced, skipped: produced.skipped },
        'csv job produced',
      );
      this.finishIfComplete(job);
    } catch (error) {
      // Rows produced before the failure still get results; the job says how far it got and why.
      status.state = 'failed';
      status.error = errorMessage(error);
      job.produced = true;
      this.accepted.inc({ state: 'failed' });
      this.options.logger.warn({ jobId: status.jobId, err: status.error }, 'csv job failed');
      this.finishIfComplete(job);
    }
  }

  /**
   * Once every produced row has a result: the results file is written and the job done (or stays
   * failed). The upload is kept until the job is forgotten: the results file carries its columns.
   */
  private finishIfComplete(job: Job): void {
    if (!job.produced || job.finished || job.rows.size < job.status.rowsIn) return;
    job.finished = (async () => {
      try {
        await job.writes;
        if (job.writeError) throw job.writeError;
        const partPath = `${job.resultsPath}.part`;
        await pipeline(Readable.from(this.resultLines(job)), createWriteStream(partPath));
        await rename(partPath, job.resultsPath);
      } catch (error) {
        job.status.state = 'failed';
        job.status.error = `could not write the results file: ${errorMessage(error)}`;
        this.accepted.inc({ state: 'failed' });
        this.options.logger.error({ jobId: job.status.jobId, err: job.status.error }, 'csv job failed');
      }
      if (job.status.state === 'processing') {
        job.status.state = 'done';
        this.accepted.inc({ state: 'done' });
      }
      job.status.finishedAt = new Date().toISOString();
    })();
  }

  private forgetOldJobs(): void {
    const cutoff = Date.now() - JOB_RETENTION_MS;
    for (const [jobId, job] of this.jobs) {
      // A failed job whose rows never all come back is forgotten a day after it was created.
      const since = job.status.finishedAt ?? (job.status.state === 'failed' ? job.status.createdAt : null);
      if (since !== null && Date.parse(since) < cutoff) {
        this.jobs.delete(jobId);
        void rm(join(this.options.dir, jobId), { recursive: true, force: true });
      }
    }
  }
}
