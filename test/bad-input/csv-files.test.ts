import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TEXT_CHARS } from '../../producers/csv/produce-csv.js';
import { gatewayEnv, startGateway, startTextStages } from '../support/gateway.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';

const run = promisify(execFile);
const services = new TestServices();

/**
 * A full garbage collection, without starting the test process with --expose-gc, done twice: V8
 * hands the backing stores a collection frees to a concurrent sweeper
 * (`--concurrent-array-buffer-sweeping`), and `arrayBuffers` drops only once it has run; the next
 * collection waits for it first. On a loaded machine (2026-12-05), 30 MB of freed Buffers were still
 * counted after one collection in 8 of 20 tries and in none of 20 after two.
 */
function collectGarbageFunction(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}
const collectGarbage = collectGarbageFunction();
afterEach(() => services.stopAll());

interface JobStatus {
  jobId: string;
  state: string;
  rowsIn: number;
  rowsSkipped: number;
  resultsOut: number;
  skippedRows: Array<{ line: number; reason: string }>;
  error: string | null;
}

function csvForm(body: Blob, fields: Record<string, string>, fileName = 'rows.csv'): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', body, fileName);
  return form;
}

async function jobUntil(url: string, jobId: string, done: (job: JobStatus) => boolean, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await fetch(`${url}/v1/jobs/${jobId}`)).json()) as JobStatus;
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('bad CSV files on /v1/jobs/csv', () => {
  it('reads BOMs, mixed line endings and quoting, skips a 1 MB cell with its line, and escapes formulas in the download', async () => {
    const { stack } = await pipelineStack('bad-csv', gatewayEnv());
    await startTextStages(services, stack);
    const { url } = await startGateway(services, stack);

    const rows = [
      'first row, after a BOM and CRLF',
      'second row after a bare LF',
      'third row after a bare CR',
      'quoted, with "quotes", a comma\r\nand a CRLF inside',
      'x'.repeat(1024 * 1024),
      '=HYPERLINK("http://evil.example","click me")',
      '@SUM(A1:A9) so happy',
      'last row, no line ending',
    ];
    const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
    const endings = ['\r\n', '\n', '\r', '\r\n', '\n', '\r\n', '\n', ''];
    const csv = `\uFEFF"id","text"\r\n${rows.map((text, i) => `${i},${quote(text)}${endings[i]}`).join('')}`;
    const accepted = await fetch(`${url}/v1/jobs/csv`, {
      method: 'POST',
      body: csvForm(new Blob([csv]), { textColumn: 'text', idColumn: 'id' }),
    });
    const job = (await accepted.json()) as JobStatus & { message?: string };
    expect(accepted.status, job.message).toBe(202);
    const { jobId } = job;
    const done = await jobUntil(url, jobId, (job) => job.state === 'done' || job.state === 'failed');
    expect(done).toMatchObject({ state: 'done', rowsIn: 7, resultsOut: 7, rowsSkipped: 1, error: null });
    expect(done.skippedRows).toHaveLength(1);
    expect(done.skippedRows[0]!.reason).toBe(
      `text of ${1024 * 1024} characters is over the limit of ${MAX_TEXT_CHARS} (an unclosed quote?)`,
    );
    const body = await (await fetch(`${url}/v1/jobs/${jobId}/results.csv`)).text();
    const results = parse(body, { columns: true }) as Array<{ id: string; text: string; skipped: string }>;
    const byId = new Map(results.map((row) => [row.id, row.text]));
    // Every row comes back in the file's order, the skipped one with its cell and why.
    expect(results.map((row) => row.id)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(results[4]!.skipped).toMatch(/over the limit/);
    expect(byId.get('4')).toHaveLength(1024 * 1024);
    expect(byId.get('0')).toBe(rows[0]);
    expect(byId.get('2')).toBe(rows[2]);
    expect(byId.get('3')).toBe(rows[3]);
    expect(byId.get('5')).toBe(`'${rows[5]}`);
    expect(byId.get('6')).toBe(`'${rows[6]}`);
    expect(byId.get('7')).toBe(rows[7]);

    // Files that are no CSV at all are refused before anything is produced.
    const refusals: Array<[Blob, RegExp]> = [
      [
        new Blob([Buffer.from([0xef, 0xbb, 0xbf, 0x74, 0x65, 0x78, 0x74, 0x0a, 0xff, 0xfe, 0x0a])]),
        /not valid UTF-8/,
      ],
      [
        new Blob([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d])]),
        /binary data/,
      ],
      [new Blob(['comment,stars\nnice,5\n']), /no column 'text'|'text'/],
      [new Blob(['']), /empty/],
    ];
    for (const [file, reason] of refusals) {
      const response = await fetch(`${url}/v1/jobs/csv`, {
        method: 'POST',
        body: csvForm(file, { textColumn: 'text' }),
      });
      const message = ((await response.json()) as { message: string }).message;
      expect(response.status, message).toBe(400);
      expect(message).toMatch(reason);
    }
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('takes a CSV of a million rows in constant memory', async () => {
    const { stack } = await pipelineStack('csv-million', gatewayEnv());
    const { url } = await startGateway(services, stack);
    const file = join(mkdtempSync(join(tmpdir(), 'csv-million-')), 'million.csv');
    const out = createWriteStream(file);
    out.write('id,text\n');
    for (let i = 0; i < 1_000_000; i++) {
      if (!out.write(`${i},"row ${i}: what a lovely, sunny morning"\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    // Memory still held after a full collection: garbage comes and goes, what grows with the file
    // would stay. (The test, the gateway and its producer share this process.)
    const retained = () => {
      collectGarbage();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const beforeUpload = retained();
    // curl, a process of its own, sends the file: only the gateway's memory is in this process.
    const { stdout } = await run('curl', [
      '-sS',
      '--fail-with-body',
      '-F',
      'textColumn=text',
      '-F',
      'idColumn=id',
      '-F',
      `file=@${file};type=text/csv`,
      `${url}/v1/jobs/csv`,
    ]);
    const { jobId } = JSON.parse(stdout) as JobStatus;
    const afterUpload = retained();
    let peak = afterUpload;
    const sampler = setInterval(() => {
      peak = Math.max(peak, retained());
    }, 1000);
    try {
      // No stages run here: the job is done producing once every row is in segments.raw.
      const produced = await jobUntil(url, jobId, (job) => job.state !== 'producing', 300_000);
      expect(produced).toMatchObject({ state: 'processing', rowsIn: 1_000_000, rowsSkipped: 0, error: null });
    } finally {
      clearInterval(sampler);
    }
    // The file is 45 MB and its million segments far more as objects: what is held stays a small
    // fraction of either.
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    const growthMb = (peak - beforeUpload) / 1024 / 1024;
    process.stderr.write(
      `csv of a million rows: retained ${mb(afterUpload - beforeUpload)} MB more after the upload, ${growthMb.toFixed(1)} MB at most while producing\n`,
    );
    rmSync(dirname(file), { recursive: true, force: true });
    expect(growthMb).toBeLessThan(32);
  });
});
