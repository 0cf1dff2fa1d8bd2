import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { startGatewayService } from '../../gateway/service.js';
import { OPT_IN_STAGES } from '../../processors/opt-in-stages.js';
import { PIPELINE_STAGE_NAMES, PIPELINE_STAGE_SERVICES } from '../../processors/stages.js';
import { AudioInputError } from '../../producers/audio/ffmpeg-decoder.js';
import { connectAudioProducers, ingestAudio } from '../../producers/audio/ingest-audio.js';
import { vadModelOf } from '../../producers/audio/speech-chunker.js';
import { inspectCsvFile } from '../../producers/csv/csv-input.js';
import { produceCsv } from '../../producers/csv/produce-csv.js';
import { SegmentProducer } from '../../producers/segment-producer.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { createLogger } from '../../runtime/logger.js';
import { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { runService } from '../../runtime/service.js';
import { startCommandSpan } from '../../runtime/tracing/record-spans.js';
import { startTracing } from '../../runtime/tracing/start-tracing.js';
import { topicNames } from '../../schemas/index.js';
import { SINKS } from '../../sinks/index.js';
import { OPT_IN_SINKS } from '../../sinks/opt-in-sinks.js';
import { loadConfig } from '../config.js';
import { languageOption } from '../options.js';
import { byteProgress } from '../progress.js';

/** Every stage service `stage <name>` can run: the pipeline's and the opt-in modes. */
const STAGE_SERVICES = { ...PIPELINE_STAGE_SERVICES, ...OPT_IN_STAGES };
type StageServiceName = keyof typeof STAGE_SERVICES;
const STAGE_CHOICES = Object.keys(STAGE_SERVICES);
/** Every sink service `sink <name>` can run: the pipeline's and the opt-in ones. */
const SINK_SERVICES = { ...SINKS, ...OPT_IN_SINKS };
type SinkServiceName = keyof typeof SINK_SERVICES;
const SINK_CHOICES = Object.keys(SINK_SERVICES);

export function registerPipelineCommands(program: Command): void {
  program
    .command('stage')
    .description(
      `run one pipeline stage as a service (${PIPELINE_STAGE_NAMES.join(', ')}); start more to scale out: ` +
        'instances share the work through their consumer group. Opt-in: text-pipeline runs correct, ' +
        'translate and classify in one process and one transaction per batch, instead of those three',
    )
    .argument('<name>', STAGE_CHOICES.join(' | '), (value: string) => {
      if (!STAGE_CHOICES.includes(value)) {
        throw new InvalidArgumentError(`expected one of ${STAGE_CHOICES.join(', ')}`);
      }
      return value as StageServiceName;
    })
    .action(async (name: StageServiceName) => {
      await runService(name, loadConfig, STAGE_SERVICES[name]);
      // runService keeps the process alive until SIGTERM/SIGINT and exits itself.
      await new Promise<never>(() => undefined);
    });

  program
    .command('sink')
    .description(
      `run a sink as a service (${SINK_CHOICES.join(', ')}), exactly once: blob and feedback write ` +
        'to Azure Blob (both started by up); opt-in: postgres writes results to a PostgreSQL table (POSTGRES_URL)',
    )
    .argument('<name>', SINK_CHOICES.join(' | '), (value: string) => {
      if (!SINK_CHOICES.includes(value)) {
        throw new InvalidArgumentError(`expected one of ${SINK_CHOICES.join(', ')}`);
      }
      return value as SinkServiceName;
    })
    .action(async (name: SinkServiceName) => {
      await runService(`${name}-sink`, loadConfig, SINK_SERVICES[name]);
      await new Promise<never>(() => undefined);
    });

  program
    .command('gateway')
    .description(
      'run the HTTP gateway: REST API under /v1 (docs at /docs), the live WebSocket /v1/live and the dashboard at /',
    )
    .action(async () => {
      await runService('gateway', loadConfig, startGatewayService);
      await new Promise<never>(() => undefined);
    });

  const produce = program.command('produce').description('feed data into the pipeline');
  produce
    .command('csv')
    .description('stream the rows of a CSV file into segments.raw (any size, constant memory)')
    .argument('<file>', 'a UTF-8 CSV file with a header row')
    .requiredOption('--text-column <name>', 'column holding the text', 'text')
    .option(
      '--id-column <name>',
      "column holding a unique row id (default: the column named 'id' if there is one; '' for <job id>:<line>)",
    )
    .option('--stream <name>', 'stream id of the rows (default: csv:<file name>)')
    .option(
      '--language <code>',
      'language of every row, ISO 639-1 (default: detected per row)',
      languageOption,
    )
    .option('--job <id>', 'job id (default: a new UUID)')
    .action(
      async (
        file: string,
        options: { textColumn: string; idColumn?: string; stream?: string; language?: string; job?: string },
      ) => {
        const config = loadConfig();
        const logger = createLogger({ level: config.logLevel, name: 'produce-csv' });
        // The file is checked before connecting anywhere: a bad file fails fast, with nothing produced.
        await inspectCsvFile(file, options);
        const kafka = createKafka(config.kafka, logger, 'produce-csv');
        const registry = new SchemaRegistryClient(config.schemaRegistry);
        const topic = topicNames(config.topics.prefix).segmentsRaw;
        const producer = await SegmentProducer.connect({ kafka, registry, topic, logger });
        const progress = byteProgress('rows');
        const tracing = await startTracing('produce-csv', logger);
        const command = startCommandSpan('produce csv', { 'emotion_stream.file': basename(file) });
        try {
          const result = await produceCsv(producer, {
            file,
            textColumn: options.textColumn,
            idColumn: options.idColumn,
            streamId: options.stream,
            language: options.language,
            jobId: options.job,
            traceHeaders: command.headers,
            onProgress: (p) => progress.update(p.bytesRead, p.bytes, p.produced),
          });
          progress.end();
          for (const row of result.skippedRows.slice(0, 20)) {
            process.stderr.write(`skipped line ${row.line}: ${row.reason}\n`);
          }
          if (result.skipped > 20) process.stderr.write(`... and ${result.skipped - 20} more skipped rows\n`);
          process.stdout.write(
            `produced ${result.produced} rows to ${topic} (job ${result.jobId}); skipped ${result.skipped}\n`,
          );
        } catch (error) {
          command.end(error as Error);
          throw error;
        } finally {
          command.end();
          progress.end();
          await producer.close();
          await tracing.shutdown();
        }
      },
    );

  produce
    .command('audio')
    .description(
      'decode a recording or a live stream (file, HTTP, HLS, RTMP, SRT, UDP, or a YouTube page via yt-dlp) into ' +
        'audio.chunks; Ctrl-C stops a live input and ends the stream cleanly',
    )
    .argument('<input>', 'a file path or URL')
    .option('--stream <name>', 'stream id (default: audio-<random>)')
    .option('--realtime', 'send a file at the pace of playback, as if it were live')
    .option('--lang <code>', 'spoken language, ISO 639-1 (passed to the transcriber)', languageOption)
    .action(async (input: string, options: { stream?: string; realtime?: boolean; lang?: string }) => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: 'produce-audio' });
      const kafka = createKafka(config.kafka, logger, 'produce-audio');
      const registry = new SchemaRegistryClient(config.schemaRegistry);
      const topics = topicNames(config.topics.prefix);
      const { chunks, events, close } = await connectAudioProducers({ kafka, registry, topics, logger });
      const streamId = options.stream ?? `audio-${randomUUID().slice(0, 8)}`;
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      process.once('SIGTERM', () => controller.abort());
      let lastReport = 0;
      const tracing = await startTracing('produce-audio', logger);
      // Every chunk of the stream continues the command's trace, as an upload's continue its request's.
      const command = startCommandSpan('produce audio', { 'emotion_stream.stream_id': streamId });
      try {
        process.stderr.write(`stream ${streamId}: reading ${input}\n`);
        const result = await ingestAudio({
          input,
          streamId,
          traceHeaders: command.headers,
          chunks,
          events,
          chunkMs: config.audio.chunkMs,
          vadModel: vadModelOf(config),
          stallTimeoutMs: config.audio.stallTimeoutMs,
          realtime: options.realtime ?? false,
          languageHint: options.lang,
          signal: controller.signal,
          onProgress: ({ chunks: produced, audioMs }) => {
            if (Date.now() - lastReport < 1000) return;
            lastReport = Date.now();
            process.stderr.write(
              `stream ${streamId}: ${produced} chunks, ${(audioMs / 1000).toFixed(1)} s of audio\n`,
            );
          },
        });
        const summary = `${result.chunks} chunks, ${(result.audioMs / 1000).toFixed(1)} s of audio to ${topics.audioChunks}`;
        if (result.kind === 'failed')
          throw new AudioInputError(`stream ${streamId} failed: ${result.error} (${summary})`);
        process.stdout.write(`stream ${streamId} ${result.kind}: ${summary}\n`);
      } catch (error) {
        command.end(error as Error);
        throw error;
      } finally {
        command.end();
        await close();
        await tracing.shutdown();
      }
    });
}
