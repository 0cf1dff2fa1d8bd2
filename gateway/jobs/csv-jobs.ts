import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import * as prom from 'prom-client';
import { inspectCsvFile } from '../../producers/csv/csv-input.js';
import { produceCsv, type SkippedRow } from '../../producers/csv/produce-csv.js';
import type { SegmentProducer } from '../../producers/segment-producer.js';
import { errorMessage } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { EmotionResult } from '../../schemas/index.js';
import { RESULT_CSV_HEADER, resultCsvLine } from './results-csv.js';

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
  rows: RowSet;
  results: WriteStream;
  resultsPath: string;
  produced: boolean;
  finished: Promise<void> | undefined;
}

/** Jobs that finished longer ago than this are forgotten and their files deleted. */
const JOB_RETENTION_MS = 24 * 3_600_000;

/**
 * CSV jobs accepted by this gateway instance: each upload is checked, streamed into segments.raw
 * in the background, and its results (seen on the gateway's feed of `emotions`) are appended to a
 * results file as they arrive, so progress and the download cost no extra read of Kafka. A job
 * lives on the instance that accepted it; see gateway/README.md.
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
    const resultsPath = join(dir, 'results.csv');
    const results = createWriteStream(resultsPath);
    results.write(RESULT_CSV_HEADER);
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
      rows: new RowSet(),
      results,
      resultsPath,
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

  /** Path of the job's results file; flushed and complete once the job is done. */
  async resultsFile(jobId: string): Promise<string | undefined> {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    await job.finished;
    return job.resultsPath;
  }

  /** Every committed result the gateway sees; those of this instance's jobs are recorded. */
  onResult(result: EmotionResult): void {
    if (result.jobId === null) return;
    const job = this.jobs.get(result.jobId);
    if (!job || job.finished || !job.rows.add(result.seq)) return;
    job.results.write(resultCsvLine(result));
    job.status.resultsOut = job.rows.size;
    this.finishIfComplete(job);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.jobs.values()].map(
        (job) =>
          new Promise<void>((resolve) => (job.results.writableEnded ? resolve() : job.results.end(resolve))),
      ),
    );
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
    } finally {
      await rm(upload.file, { force: true });
    }
  }

  /** Once every produced row has a result: the results file is closed and the job done (or stays failed). */
  private finishIfComplete(job: Job): void {
    if (!job.produced || job.finished || job.rows.size < job.status.rowsIn) return;
    if (job.status.state === 'processing') {
      job.status.state = 'done';
      this.accepted.inc({ state: 'done' });
    }
    job.status.finishedAt = new Date().toISOString();
    job.finished = new Promise((resolve) => job.results.end(resolve));
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
