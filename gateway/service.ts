import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CoalescingEngine } from '../processors/classify/coalescing-engine.js';
import { createEmotionEngine, resolveRegistryModels } from '../processors/classify/pipeline.js';
import { connectAudioProducers } from '../producers/audio/ingest-audio.js';
import { vadModelOf } from '../producers/audio/speech-chunker.js';
import { SegmentProducer } from '../producers/segment-producer.js';
import { BlobStore } from '../runtime/blob/blob-store.js';
import type { RuntimeConfig } from '../runtime/config/index.js';
import { errorMessage } from '../runtime/errors.js';
import { AvroProducer } from '../runtime/kafka/avro-producer.js';
import { createKafka } from '../runtime/kafka/client.js';
import { groupIdOf } from '../runtime/kafka/group-ids.js';
import { LiveTopicReader, liveTopic } from '../runtime/kafka/live-reader.js';
import type { Logger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { SchemaRegistryClient } from '../runtime/serde/schema-registry.js';
import type { RunningService, ServiceContext } from '../runtime/service.js';
import { defaultCacheDir } from '../runtime/stack/local-stack.js';
import {
  avroSchemas,
  type EmotionResult,
  type Feedback,
  type StreamEvent,
  type TextSegment,
  topicNames,
} from '../schemas/index.js';
import { buildGatewayApp } from './app.js';
import type { GatewayServiceConfig } from './config.js';
import { FeedbackOutcomes } from './feedback/feedback-outcomes.js';
import { CsvJobs } from './jobs/csv-jobs.js';
import { LiveHub } from './live/live-hub.js';
import { StreamIngests } from './streams/stream-ingests.js';
import { StreamOverview } from './streams/stream-overview.js';
import { KafkaTranscripts } from './transcripts/stream-transcripts.js';

export interface RunningGateway extends RunningService {
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  url: string;
  hub: LiveHub;
}

/**
 * The gateway service: the classify engine in-process for /v1/predict, producers for segments.raw
 * and feedback, one live reader of `emotions` fanned out to WebSocket clients and CSV jobs, and
 * the Fastify app serving it all (with /healthz, /readyz and /metrics on the same port).
 */
export async function startGatewayService(
  context: ServiceContext<GatewayServiceConfig>,
): Promise<RunningGateway> {
  const { config, logger, metrics } = context;
  const topics = topicNames(config.topics.prefix);
  // Concurrent /v1/predict requests share model runs (coalescing-engine.ts).
  const engine = new CoalescingEngine(
    await createEmotionEngine(await resolveRegistryModels(config, logger), logger),
    config.classify.maxBatch,
  );
  const kafka = createKafka(config.kafka, logger, 'gateway');
  const registry = new SchemaRegistryClient(config.schemaRegistry);
  const segments = await SegmentProducer.connect({ kafka, registry, topic: topics.segmentsRaw, logger });
  const feedback = await AvroProducer.connect<Feedback>({
    kafka,
    registry,
    topic: topics.feedback,
    schema: avroSchemas.Feedback,
    logger,
  });
  const audio = await connectAudioProducers({ kafka, registry, topics, logger });
  const dataDir = config.gateway.dataDir ?? join(defaultCacheDir(config), 'gateway');
  const vadModel = vadModelOf(config);
  if (!vadModel)
    logger.warn('no silero VAD model: audio is cut into chunks by energy levels (see AUDIO_VAD)');
  const ingests = new StreamIngests({
    chunks: audio.chunks,
    events: audio.events,
    chunkMs: config.audio.chunkMs,
    vadModel,
    stallTimeoutMs: config.audio.stallTimeoutMs,
    maxRunning: config.gateway.maxStreams,
    logger,
    metrics,
  });
  const hub = new LiveHub({
    historySize: config.gateway.liveHistory,
    maxBufferedBytes: config.gateway.liveBufferBytes,
    metrics,
  });
  const jobs = new CsvJobs({
    dir: join(dataDir, 'jobs'),
    producer: segments,
    logger,
    metrics,
  });
  const overview = new StreamOverview();
  // One consumer per instance, in a group of its own: every gateway sees every result, and the
  // group goes when the gateway does.
  const instance = `${hostname()}.${process.pid}.${randomBytes(3).toString('hex')}`;
  const feed = await LiveTopicReader.start({
    kafka,
    registry,
    groupId: groupIdOf(config.topics.prefix, `gateway.${instance}`),
    logger,
    metrics,
    topics: [
      liveTopic<EmotionResult>({
        topic: topics.emotions,
        schema: avroSchemas.EmotionResult,
        onRecord: ({ value, timestampMs }) => {
          hub.publish(value, timestampMs);
          jobs.onResult(value);
          overview.onResult(value, timestampMs);
        },
      }),
      liveTopic<StreamEvent>({
        topic: topics.streamEvents,
        schema: avroSchemas.StreamEvent,
        onRecord: ({ value }) => {
          hub.publishEvent(value);
          overview.onEvent(value);
        },
      }),
      liveTopic<TextSegment>({
        // Transcripts as soon as they exist, for streams someone watches (CSV rows, keyed by row
        // id, are skipped before decoding).
        topic: topics.segmentsRaw,
        schema: avroSchemas.TextSegment,
        accept: (key) => hub.isWatched(key),
        onRecord: ({ value }) => {
          if (value.origin === 'ASR') hub.publishSegment(value);
        },
      }),
    ],
  });
  const checks = {
    kafka: () => feed.isReady(),
    registry: () => registry.ping().then(() => true),
    model: () => engine.languages.length > 0,
  };
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  const app = await buildGatewayApp({
    feedbackOutcomes: new FeedbackOutcomes({
      store: feedbackStore(config, logger),
      root: topics.feedback,
      logger,
    }),
    config: config.gateway,
    version,
    logger,
    metrics,
    engine,
    segments,
    feedback,
    hub,
    jobs,
    ingests,
    overview,
    transcripts: new KafkaTranscripts({ kafka, registry, topic: topics.emotions, logger }),
    audioSpoolDir: join(dataDir, 'audio'),
    checks,
  });
  if (config.gateway.apiKeys.length === 0 && !isLoopback(config.gateway.host))
    logger.warn(
      { host: config.gateway.host },
      'listening beyond loopback without GATEWAY_API_KEYS: anyone who can reach this port can use the API',
    );
  const address = await app.listen({ host: config.gateway.host, port: config.gateway.port });
  const port = new URL(address).port;
  const url = `http://${config.gateway.host === '0.0.0.0' ? '127.0.0.1' : config.gateway.host}:${port}`;
  logger.info({ url }, 'gateway listening');
  return {
    url,
    hub,
    checks,
    ownsEndpoints: true,
    stop: async () => {
      hub.closeAll(1001, 'gateway stopping');
      await app.close();
      // Running ingests end with a final chunk and a `stopped` event rather than just vanishing.
      await ingests.stopAll();
      await feed.stop();
      await Promise.all([segments.close(), feedback.close(), audio.close(), jobs.close()]);
      await engine.close();
    },
  };
}

/** Where the feedback sink writes its records, read for feedback outcomes; none without storage. */
function feedbackStore(config: RuntimeConfig, logger: Logger): BlobStore | undefined {
  try {
    return BlobStore.connect(config.blob);
  } catch (error) {
    logger.warn({ err: errorMessage(error) }, 'no Blob storage: feedback outcomes stay pending');
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
