/**
 * N text rows through correct → translate → classify, each stage its own process with its
 * offline engine and exactly-once on, on the local stack (started here unless the environment
 * names one). Phase 1 produces all rows at once and measures sustained rows/s from the first
 * produce to the last committed result; phase 2 paces rows at half that rate and measures the
 * end-to-end latency of each result, from its first trace stamp to the moment a read_committed
 * consumer receives it.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../cli/config.js';
import { createPipelineTopics } from '../cli/provision.js';
import { pipelineStageSpecs, ServiceSupervisor } from '../cli/service-supervisor.js';
import { type KeyedSegment, newTextSegment, SegmentProducer } from '../producers/segment-producer.js';
import { createKafka } from '../runtime/kafka/client.js';
import { RecordPump } from '../runtime/kafka/record-pump.js';
import { createLogger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { AvroDecoder } from '../runtime/serde/avro-serde.js';
import { SchemaRegistryClient } from '../runtime/serde/schema-registry.js';
import { LocalStack } from '../runtime/stack/local-stack.js';
import { avroSchemas, type EmotionResult, topicNames } from '../schemas/index.js';
import { defaultDatasetsDir, loadGoEmotions, loadRedV1 } from '../training/datasets.js';
import { format, numberOption, printTable, profilingArgs } from './table.js';

/** 12,000 dataset texts, three English to one Romanian (shared with bench/runtime.ts). */
export function sampleTexts(): string[] {
  const datasets = defaultDatasetsDir();
  const english = loadGoEmotions(join(datasets, 'goemotions'), 'train').map((e) => e.text);
  const romanian = loadRedV1(join(datasets, 'red-ro', 'v1'), 'train').map((e) => e.text);
  // About the mix of a Romanian deployment's uploads: mostly English, a quarter Romanian.
  return english
    .slice(0, 9000)
    .flatMap((text, i) => (i % 3 === 0 ? [text, romanian[i % romanian.length]!] : [text]));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function main(json: boolean): Promise<void> {
  const rows = numberOption('rows', 100_000);
  const latencySeconds = numberOption('latency-seconds', 20);
  const baseConfig = loadConfig();
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'warn') ?? 'warn', name: 'bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  const stack = await LocalStack.start({ config: baseConfig, dataDir, logger });
  const prefix = `bench-${randomBytes(3).toString('hex')}.`;
  const env = { ...process.env, ...stack.env(), TOPIC_PREFIX: prefix };
  const config = loadConfig(env);
  const supervisor = new ServiceSupervisor({
    // The three text stages; transcribe has no part in a text benchmark.
    services: pipelineStageSpecs(19_464).filter((spec) => spec.name !== 'transcribe'),
    env: { ...env, LOG_LEVEL: 'warn' },
    logDir: join(dataDir, 'logs'),
    logger,
    // Run from source like this benchmark (tsx's loader is in execArgv).
    cliScript: join(packageRoot(), 'cli', 'run.ts'),
    nodeArgs: profilingArgs(),
  });
  try {
    await createPipelineTopics(config, logger);
    await supervisor.start();
    const topics = topicNames(prefix);
    const kafka = createKafka(config.kafka, logger, 'bench');
    const registry = new SchemaRegistryClient(config.schemaRegistry);
    const decoder = new AvroDecoder<EmotionResult>(registry, avroSchemas.EmotionResult);
    const producer = await SegmentProducer.connect({ kafka, registry, topic: topics.segmentsRaw, logger });
    const texts = sampleTexts();

    // One read_committed consumer counts results and measures their latency as they arrive.
    let received = 0;
    let lastAt = 0;
    const latencies: number[] = [];
    let measuring = false;
    const reader = new RecordPump({
      clients: kafka,
      groupId: `${prefix}bench-reader`,
      topics: [topics.emotions],
      logger,
      mode: 'committed',
      onRecord: async (_topic, record) => {
        const now = Date.now();
        received += 1;
        if (measuring) {
          const result = await decoder.decode(record.value);
          const origin = result.trace[0]?.atMs;
          if (origin !== undefined) latencies.push(now - origin);
        }
        lastAt = now;
      },
    });
    await reader.start();

    const segment = (i: number, phase: string): KeyedSegment => {
      const id = `${phase}-${i}`;
      return {
        key: id,
        segment: newTextSegment({
          id,
          streamId: `bench-${phase}`,
          seq: i,
          origin: 'API',
          text: texts[i % texts.length]!,
        }),
      };
    };
    const waitFor = async (count: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (received < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (received < count) throw new Error(`only ${received} of ${count} results after ${timeoutMs} ms`);
    };

    // Phase 1: throughput.
    process.stderr.write(`pipeline: producing ${rows} rows\n`);
    const started = Date.now();
    for (let i = 0; i < rows; i += 1000) {
      await producer.send(Array.from({ length: Math.min(1000, rows - i) }, (_, k) => segment(i + k, 'load')));
    }
    const producedMs = Date.now() - started;
    await waitFor(rows, 30 * 60_000);
    const throughput = rows / ((lastAt - started) / 1000);
    process.stderr.write(`pipeline: ${Math.round(throughput)} rows/s; measuring latency at half load\n`);

    // Phase 2: latency at half the sustained rate, in 100 ms ticks.
    const rate = throughput / 2;
    const total = Math.round(rate * latencySeconds);
    const before = received;
    measuring = true;
    const paceStart = Date.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.round(((Date.now() - paceStart) / 1000) * rate));
      if (due > sent) {
        await producer.send(Array.from({ length: due - sent }, (_, k) => segment(sent + k, 'paced')));
        sent = due;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(before + total, 120_000);
    latencies.sort((a, b) => a - b);
    await producer.close();
    await reader.stop();

    const figures = {
      rows,
      rows_per_s: Math.round(throughput),
      produce_rows_per_s: Math.round(rows / (producedMs / 1000)),
      latency_rate_rows_per_s: Math.round(rate),
      latency_samples: latencies.length,
      p50_ms: percentile(latencies, 50),
      p90_ms: percentile(latencies, 90),
      p99_ms: percentile(latencies, 99),
      max_ms: latencies.at(-1) ?? Number.NaN,
    };
    printTable(
      `pipeline benchmark: correct (hunspell) → translate (none) → classify (onnx), one process each, exactly-once; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
      [
        ['rows', format(figures.rows)],
        ['sustained throughput (rows/s)', format(figures.rows_per_s)],
        ['producer alone (rows/s)', format(figures.produce_rows_per_s)],
        ['latency run: paced rate (rows/s)', format(figures.latency_rate_rows_per_s)],
        ['latency p50 (ms)', format(figures.p50_ms)],
        ['latency p90 (ms)', format(figures.p90_ms)],
        ['latency p99 (ms)', format(figures.p99_ms)],
        ['latency max (ms)', format(figures.max_ms)],
      ],
    );
    if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await supervisor.stop();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
