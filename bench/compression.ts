/**
 * Record batch compression (issue 21): the same N emotion results (real ones: GoEmotions texts
 * scored by the fast model, Avro-encoded as the classify stage writes them) produced to one topic
 * per setting of KAFKA_COMPRESSION, on a broker of the benchmark's own. Prints the bytes the
 * broker keeps on disk, the produce rate (idempotent producer, acks=all, batches of 500) and the
 * rate a consumer reads them back at.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../cli/config.js';
import { createEmotionEngine } from '../processors/classify/pipeline.js';
import { toEmotionResult } from '../processors/classify/stage.js';
import { newTextSegment } from '../producers/segment-producer.js';
import { KAFKA_COMPRESSIONS } from '../runtime/config/index.js';
import { AvroProducer } from '../runtime/kafka/avro-producer.js';
import { createKafka } from '../runtime/kafka/client.js';
import { RecordPump } from '../runtime/kafka/record-pump.js';
import { createLogger } from '../runtime/logger.js';
import { SchemaRegistryClient } from '../runtime/serde/schema-registry.js';
import { LocalStack, withoutStackEndpoints } from '../runtime/stack/local-stack.js';
import { avroSchemas, type EmotionResult } from '../schemas/index.js';
import { defaultDatasetsDir, loadGoEmotions } from '../training/datasets.js';
import { format, numberOption, printTable } from './table.js';

/** Bytes of the topic's log segments on the broker's disk. */
function bytesOnDisk(logDir: string, topic: string): number {
  return readdirSync(logDir)
    .filter((dir) => dir.startsWith(`${topic}-`))
    .flatMap((dir) => readdirSync(join(logDir, dir)).map((file) => join(logDir, dir, file)))
    .filter((file) => file.endsWith('.log'))
    .reduce((sum, file) => sum + statSync(file).size, 0);
}

export async function main(json: boolean): Promise<void> {
  const rows = numberOption('rows', 50_000);
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'warn') ?? 'warn', name: 'bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-compression-'));
  const env = withoutStackEndpoints(process.env);
  const stack = await LocalStack.start({ config: loadConfig(env), dataDir, logger });
  try {
    const base = loadConfig({ ...env, ...stack.env(), CLASSIFY_TIER: 'fast' });
    const engine = await createEmotionEngine(base.classify, logger);
    const texts = loadGoEmotions(join(defaultDatasetsDir(), 'goemotions'), 'train')
      .slice(0, 5000)
      .map((e) => e.text);
    const scores = await engine.run(texts, { lang: 'en' });
    await engine.close();
    const results: EmotionResult[] = Array.from({ length: rows }, (_, i) => {
      const text = texts[i % texts.length]!;
      const segment = newTextSegment({
        id: `row-${i}`,
        streamId: `stream-${i % 50}`,
        seq: i,
        origin: 'API',
        text,
      });
      return toEmotionResult(segment, text, scores[i % texts.length]!);
    });
    const registry = new SchemaRegistryClient(base.schemaRegistry);
    const figures: Record<
      string,
      { bytes: number; bytesPerRecord: number; produce: number; consume: number }
    > = {};
    for (const compression of KAFKA_COMPRESSIONS) {
      const config = loadConfig({ ...env, ...stack.env(), KAFKA_COMPRESSION: compression });
      const kafka = createKafka(config.kafka, logger, `bench-${compression}`);
      const topic = `bench-compression-${compression}-${randomBytes(2).toString('hex')}`;
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
      await admin.disconnect();
      const producer = await AvroProducer.connect<EmotionResult>({
        kafka,
        registry,
        topic,
        schema: avroSchemas.EmotionResult,
        logger,
      });
      const started = Date.now();
      for (let i = 0; i < rows; i += 500)
        await producer.send(results.slice(i, i + 500).map((value) => ({ key: value.streamId, value })));
      const produceSeconds = (Date.now() - started) / 1000;
      await producer.close();

      let read = 0;
      const reading = Date.now();
      let allRead!: () => void;
      const done = new Promise<void>((resolve) => {
        allRead = resolve;
      });
      const reader = new RecordPump({
        clients: kafka,
        groupId: `${topic}-reader`,
        topics: [topic],
        logger,
        mode: 'committed',
        onRecord: () => {
          if (++read >= rows) allRead();
        },
      });
      await reader.start();
      await done;
      const consumeSeconds = (Date.now() - reading) / 1000;
      await reader.stop();
      const bytes = bytesOnDisk(join(dataDir, 'kafka', 'kraft'), topic);
      figures[compression] = {
        bytes,
        bytesPerRecord: Math.round(bytes / rows),
        produce: Math.round(rows / produceSeconds),
        consume: Math.round(rows / consumeSeconds),
      };
      process.stderr.write(`compression ${compression}: ${JSON.stringify(figures[compression])}\n`);
    }
    printTable(
      `compression benchmark: ${rows} emotion results (Avro, real scores) per setting, one broker; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
      [
        ['KAFKA_COMPRESSION', 'bytes on disk', 'bytes/record', 'produce (records/s)', 'consume (records/s)'],
        ...KAFKA_COMPRESSIONS.map((c): [string, ...string[]] => [
          c,
          format(figures[c]!.bytes),
          format(figures[c]!.bytesPerRecord),
          format(figures[c]!.produce),
          format(figures[c]!.consume),
        ]),
      ],
    );
    if (json)
      process.stdout.write(
        `${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([c, f]) => [c, { bytes_on_disk: f.bytes, bytes_per_record: f.bytesPerRecord, produce_per_s: f.produce, consume_per_s: f.consume }])))}\n`,
      );
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
