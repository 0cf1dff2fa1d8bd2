/**
 * A CSV job as a user runs it (issue 19): N rows with extra columns uploaded to the gateway, run
 * through correct → translate → classify, and the results file downloaded. Each service is its own
 * process on the local stack, as `up` runs them. Measures the time from upload to the job being
 * done, the gateway's memory (resident set before the upload and at most during the job, read from
 * /proc), and checks the download: every row in the file's order, every column carried.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse';
import { loadConfig } from '../cli/config.js';
import { createPipelineTopics } from '../cli/provision.js';
import { pipelineStageSpecs, ServiceSupervisor } from '../cli/service-supervisor.js';
import { createLogger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { LocalStack } from '../runtime/stack/local-stack.js';
import { defaultDatasetsDir, loadGoEmotions } from '../training/datasets.js';
import { format, numberOption, printTable } from './table.js';

const run = promisify(execFile);

function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) * 1024 : Number.NaN;
}

async function writeCsv(file: string, rows: number): Promise<void> {
  const texts = loadGoEmotions(join(defaultDatasetsDir(), 'goemotions'), 'train').map((e) => e.text);
  const out = createWriteStream(file);
  out.write('id,text,gold,reviewer,stars\n');
  for (let i = 0; i < rows; i++) {
    const text = texts[i % texts.length]!.replace(/"/g, '""');
    if (!out.write(`row-${i},"${text}",${['joy', 'anger', 'neutral'][i % 3]},r${i % 17},${(i % 5) - 2}\n`))
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

/** Reads the downloaded file once: rows, whether the ids run in the file's order, the header. */
async function checkResults(file: string, rows: number) {
  let count = 0;
  let inOrder = true;
  let carried = true;
  let scored = 0;
  let header: string[] = [];
  const parser = createReadStream(file).pipe(parse());
  for await (const record of parser as AsyncIterable<string[]>) {
    if (header.length === 0) {
      header = record;
      continue;
    }
    if (record[0] !== `row-${count}`) inOrder = false;
    if (record[2] !== ['joy', 'anger', 'neutral'][count % 3] || record[4] !== String((count % 5) - 2))
      carried = false;
    if (record[header.indexOf('top_label')]) scored += 1;
    count += 1;
  }
  return { header, complete: count === rows, inOrder, carried, scored };
}

export async function main(json: boolean): Promise<void> {
  const rows = numberOption('rows', 100_000);
  const baseConfig = loadConfig();
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'warn') ?? 'warn', name: 'bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-csv-job-'));
  const stack = await LocalStack.start({ config: baseConfig, dataDir, logger });
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const env = { ...process.env, ...stack.env(), TOPIC_PREFIX: prefix };
  const config = loadConfig(env);
  const supervisor = new ServiceSupervisor({
    services: [
      ...pipelineStageSpecs(19_564).filter((spec) => spec.name !== 'transcribe'),
      { name: 'gateway', args: ['gateway'], portVariable: 'GATEWAY_PORT', preferredPort: 18_480 },
    ],
    env: { ...env, LOG_LEVEL: 'warn', GATEWAY_DATA_DIR: join(dataDir, 'gateway') },
    logDir: join(dataDir, 'logs'),
    logger,
    cliScript: join(packageRoot(), 'cli', 'run.ts'),
  });
  try {
    await createPipelineTopics(config, logger);
    const services = await supervisor.start();
    const gateway = services.find((s) => s.name === 'gateway')!;
    const url = `http://127.0.0.1:${gateway.port}`;
    const csv = join(dataDir, 'rows.csv');
    await writeCsv(csv, rows);
    process.stderr.write(`csv-job: uploading ${rows} rows\n`);

    const baseline = residentBytes(gateway.pid!);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(gateway.pid!));
    }, 250);
    const started = Date.now();
    const { stdout } = await run('curl', [
      '-sS',
      '--fail-with-body',
      '-F',
      `file=@${csv};type=text/csv`,
      `${url}/v1/jobs/csv`,
    ]);
    const { jobId } = JSON.parse(stdout) as { jobId: string };
    const uploadedMs = Date.now() - started;
    let producedMs = 0;
    for (;;) {
      const job = (await (await fetch(`${url}/v1/jobs/${jobId}`)).json()) as {
        state: string;
        resultsOut: number;
        error: string | null;
      };
      if (!producedMs && job.state !== 'producing') producedMs = Date.now() - started;
      if (job.state === 'done') break;
      if (job.state === 'failed') throw new Error(`job failed: ${job.error}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const doneMs = Date.now() - started;
    clearInterval(sampler);
    const download = join(dataDir, 'results.csv');
    const fetched = Date.now();
    await run('curl', ['-sS', '--fail-with-body', '-o', download, `${url}/v1/jobs/${jobId}/results.csv`]);
    const downloadMs = Date.now() - fetched;
    const check = await checkResults(download, rows);

    const figures = {
      rows,
      upload_ms: uploadedMs,
      produced_ms: producedMs,
      done_ms: doneMs,
      rows_per_s: Math.round(rows / (doneMs / 1000)),
      download_ms: downloadMs,
      gateway_rss_before_mb: Math.round(baseline / 1e6),
      gateway_rss_peak_mb: Math.round(peak / 1e6),
      rows_complete: check.complete,
      rows_in_file_order: check.inOrder,
      columns_carried: check.carried,
      rows_scored: check.scored,
    };
    printTable(
      `csv-job benchmark: ${rows} rows with 3 extra columns through the gateway and correct → translate → classify (${config.classify.tier} tier), one process each; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
      [
        ['rows', format(rows)],
        ['upload answered (ms)', format(uploadedMs)],
        ['all rows produced (ms)', format(producedMs)],
        ['job done, results file written (ms)', format(doneMs)],
        ['rows/s, upload to done', format(figures.rows_per_s)],
        ['download (ms)', format(downloadMs)],
        ['gateway RSS before upload (MB)', format(figures.gateway_rss_before_mb)],
        ['gateway RSS peak during the job (MB)', format(figures.gateway_rss_peak_mb)],
        ['every row back, in the file order', String(check.complete && check.inOrder)],
        ['every input column carried', String(check.carried)],
      ],
    );
    process.stderr.write(`results.csv header: ${check.header.join(',')}\n`);
    if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await supervisor.stop();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
