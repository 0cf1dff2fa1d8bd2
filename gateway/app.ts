import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { EmotionEngine } from '../processors/classify/engine.js';
import type { SegmentProducer } from '../producers/segment-producer.js';
import { isRetryable } from '../runtime/errors.js';
import type { ReadinessCheck } from '../runtime/http/service-endpoints.js';
import type { AvroProducer } from '../runtime/kafka/avro-producer.js';
import type { Logger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import type { Feedback } from '../schemas/index.js';
import { apiKeyCheck, presentedKey } from './auth.js';
import type { GatewayConfig } from './config.js';
import type { FeedbackOutcomes } from './feedback/feedback-outcomes.js';
import { sendError } from './http-errors.js';
import { recordHttpMetrics } from './http-metrics.js';
import type { CsvJobs } from './jobs/csv-jobs.js';
import type { LiveHub } from './live/live-hub.js';
import { traceRequests } from './request-trace.js';
import { audioRoutes } from './routes/audio.js';
import { feedbackRoutes } from './routes/feedback.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { LIVE_OPENAPI_PATH, liveRoutes } from './routes/live.js';
import { predictRoutes } from './routes/predict.js';
import { prototypeAliases } from './routes/prototype-aliases.js';
import { streamRoutes } from './routes/streams.js';
import { transcriptRoutes } from './routes/transcripts.js';
import type { StreamIngests } from './streams/stream-ingests.js';
import type { StreamOverview } from './streams/stream-overview.js';
import { UrlAllowList } from './streams/url-guard.js';
import type { TranscriptSource } from './transcripts/stream-transcripts.js';

export interface GatewayParts {
  config: GatewayConfig;
  version: string;
  logger: Logger;
  metrics: Registry;
  engine: EmotionEngine;
  segments: SegmentProducer;
  feedback: AvroProducer<Feedback>;
  hub: LiveHub;
  jobs: CsvJobs;
  /** What became of the feedback this gateway accepted. */
  feedbackOutcomes: FeedbackOutcomes;
  ingests: StreamIngests;
  /** Live and recent streams with their rolling counts (GET /v1/streams). */
  overview: StreamOverview;
  transcripts: TranscriptSource;
  /** Where uploaded recordings wait while they are produced. */
  audioSpoolDir: string;
  checks: Record<string, ReadinessCheck>;
}

/** The gateway's HTTP application, not yet listening: plugins, the /v1 API, health, docs, dashboard. */
export async function buildGatewayApp(parts: GatewayParts): Promise<FastifyInstance> {
  const { config } = parts;
  const app = Fastify({
    loggerInstance: parts.logger as FastifyBaseLogger,
    // One line per request would cost more than a prediction; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Unknown fields are an error the client should hear about, not something to drop silently.
    ajv: { customOptions: { removeAdditional: false } },
  });
  // JSON only: a text/plain body gets 415 like any other type the API does not take.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return sendError(reply, 400, error.message);
    }
    if (error.statusCode === 415 && error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      // Fastify's own words name the type sent, not the one wanted (issue 19).
      const sent = request.headers['content-type'] ?? 'none';
      return sendError(reply, 415, `Unsupported Media Type: ${sent}; send application/json`);
    }
    if (error.statusCode && error.statusCode < 500) {
      // One body shape for every error, Fastify's own included: the status text as `error`.
      return sendError(reply, error.statusCode, error.message);
    }
    if (isRetryable(error)) {
      request.log.warn({ err: error, url: pathOf(request.url) }, 'a dependency is unavailable');
      reply.header('Retry-After', '5');
      return sendError(reply, 503, 'the pipeline is unavailable right now; retry shortly');
    }
    request.log.error({ err: error, url: pathOf(request.url) }, 'request failed');
    // Internals stay in the log; the client gets the request id to quote.
    return sendError(reply, 500, `internal error (request ${request.id})`);
  });
  recordHttpMetrics(app, parts.metrics);
  traceRequests(app);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Emotion Stream API',
        version: parts.version,
        description:
          'Emotion recognition for live and recorded media. Results stream live on the /v1/live WebSocket.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      ...(config.apiKeys.length > 0 ? { security: [{ apiKey: [] }] } : {}),
    },
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const { openapiObject } = document;
      const paths = { ...openapiObject.paths, '/v1/live': LIVE_OPENAPI_PATH };
      // LIVE_OPENAPI_PATH is a literal OpenAPI path item; the library's types want its mutable form.
      return { ...openapiObject, paths } as unknown as typeof openapiObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  if (config.rateLimitMax > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      // Per API key when there is one, else per client address.
      keyGenerator: (request) => presentedKey(request) ?? request.ip,
      allowList: (request) => !request.url.startsWith('/v1/'),
    });
  }
  await app.register(multipart, {
    limits: { fileSize: config.uploadLimitBytes, files: 1, fields: 10, fieldSize: 1024, parts: 12 },
  });
  await app.register(websocket, { options: { maxPayload: 4096 } });

  await app.register(
    async (v1) => {
      if (config.apiKeys.length > 0) v1.addHook('onRequest', apiKeyCheck(config.apiKeys));
      await v1.register(predictRoutes, { engine: parts.engine, maxTexts: config.predictMaxTexts });
      await v1.register(jobRoutes, { jobs: parts.jobs, uploadLimitBytes: config.uploadLimitBytes });
      await v1.register(streamRoutes, {
        producer: parts.segments,
        maxTexts: config.predictMaxTexts,
        overview: parts.overview,
      });
      await v1.register(feedbackRoutes, {
        producer: parts.feedback,
        hub: parts.hub,
        outcomes: parts.feedbackOutcomes,
        uploadLimitBytes: parts.config.uploadLimitBytes,
      });
      await v1.register(audioRoutes, {
        ingests: parts.ingests,
        urlAllow: new UrlAllowList(config.streamUrlAllow),
        spoolDir: parts.audioSpoolDir,
        uploadLimitBytes: config.uploadLimitBytes,
      });
      await v1.register(liveRoutes, { hub: parts.hub, maxClients: config.liveMaxClients });
      await v1.register(transcriptRoutes, { transcripts: parts.transcripts });
    },
    { prefix: '/v1' },
  );
  await app.register(healthRoutes, { checks: parts.checks, metrics: parts.metrics });
  await app.register(prototypeAliases);

  // The dashboard: plain ES modules, with uPlot served from its package.
  const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  await app.register(fastifyStatic, {
    root: uplotDist,
    prefix: '/vendor/uplot/',
    decorateReply: false,
    allowedPath: (path) => path === '/uPlot.esm.js' || path === '/uPlot.min.css',
  });
  await app.register(fastifyStatic, {
    root: join(packageRoot(), 'gateway', 'web'),
    prefix: '/',
    decorateReply: false,
  });
  return app;
}

/** A request's path without its query: a browser WebSocket's API key travels as `access_token` there. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
