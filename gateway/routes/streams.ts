import type { FastifyPluginAsync } from 'fastify';
import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import { newTextSegment, type SegmentProducer } from '../../producers/segment-producer.js';
import type { CoreEmotion } from '../../schemas/index.js';
import { errorResponse, languageCode, streamIdSchema } from '../api-schemas.js';
import { sendError } from '../http-errors.js';
import { requestTrace } from '../request-trace.js';
import { EMOTION_SHARE_RULE, type StreamOverview } from '../streams/stream-overview.js';

const shares = {
  type: 'object',
  properties: Object.fromEntries(CORE_EMOTIONS.map((e) => [e, { type: 'number' }])),
} as const;

const streamSummary = {
  type: 'object',
  properties: {
    streamId: { type: 'string' },
    state: {
      type: 'string',
      enum: ['live', 'idle', 'ended', 'stopped', 'failed'],
      description:
        'ended/stopped/failed: what its ingest said; else live while results came in the last minute, idle after',
    },
    firstAt: { type: 'string', format: 'date-time' },
    lastAt: { type: 'string', format: 'date-time' },
    results: { type: 'integer', description: 'Results seen since the stream appeared on this gateway' },
    totals: { ...shares, description: 'Results per top label since the stream appeared' },
    window: {
      type: 'object',
      description: 'The last minute: results, and the share of each top label',
      properties: { results: { type: 'integer' }, mix: shares },
    },
    alerts: {
      type: 'array',
      items: { type: 'string' },
      description:
        'Emotions over the alert rule: the same rule as the StreamEmotionShareHigh Prometheus alert',
    },
    lastSegment: {
      type: ['object', 'null'],
      properties: { text: { type: 'string' }, topLabel: { type: 'string' }, atMs: { type: 'integer' } },
    },
    message: { type: ['string', 'null'], description: 'Why the ingest failed, or its last warning' },
    source: { type: ['string', 'null'] },
    language: {
      type: ['object', 'null'],
      description:
        "The stream's spoken language once decided (its `language` event): the code and how it was decided",
      properties: { code: { type: 'string' }, decision: { type: ['string', 'null'] } },
    },
    speakers: {
      type: 'array',
      description:
        'Each speaker told apart in the stream (S1, S2, … in the order first heard): results since the stream appeared, and the share of each top label',
      items: {
        type: 'object',
        properties: { speaker: { type: 'string' }, results: { type: 'integer' }, mix: shares },
      },
    },
  },
} as const;

/**
 * POST /v1/streams/:streamId/texts: text that arrives live (chat lines, captions, a transcript
 * from elsewhere) joins a stream. Segments are keyed by the stream id, so they stay in order.
 * GET /v1/streams: every live and recent stream with its rolling emotion mix and alert badges.
 */
export const streamRoutes: FastifyPluginAsync<{
  producer: SegmentProducer;
  maxTexts: number;
  overview: StreamOverview;
}> = async (app, { producer, maxTexts, overview }) => {
  app.get<{ Querystring: { alert?: string } }>(
    '/streams',
    {
      schema: {
        summary: 'Every live and recent stream: state, last segment, rolling emotion mix, alert badges',
        description:
          `A stream is listed while it had activity in the last hour (ended ones with their summary). The alert ` +
          `rule is Prometheus' StreamEmotionShareHigh: over the last minute an emotion is more than ` +
          `${EMOTION_SHARE_RULE.share * 100}% of a stream's results, with at least ${EMOTION_SHARE_RULE.minResults} ` +
          `results. \`alert\` names the emotions to raise badges for (default ${EMOTION_SHARE_RULE.emotions.join(',')}). ` +
          'CSV jobs are not streams: see /v1/jobs.',
        tags: ['streams'],
        querystring: {
          type: 'object',
          properties: { alert: { type: 'string', description: 'Comma-separated core emotions' } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              rule: {
                type: 'object',
                properties: {
                  windowMs: { type: 'integer' },
                  share: { type: 'number' },
                  minResults: { type: 'integer' },
                  emotions: { type: 'array', items: { type: 'string' } },
                },
              },
              streams: { type: 'array', items: streamSummary },
            },
          },
          400: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const asked = request.query.alert
        ?.split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const unknown = asked?.filter((e) => !(CORE_EMOTIONS as readonly string[]).includes(e)) ?? [];
      if (unknown.length > 0)
        return sendError(
          reply,
          400,
          `unknown emotion ${unknown.join(', ')} in alert: expected some of ${CORE_EMOTIONS.join(', ')}`,
        );
      const emotions = (asked as CoreEmotion[] | undefined) ?? EMOTION_SHARE_RULE.emotions;
      return { rule: { ...EMOTION_SHARE_RULE, emotions }, streams: overview.list(emotions) };
    },
  );

  // Positions within each stream. Ids also carry this instance's start time, so a restarted or
  // second gateway never reuses a segment id (result ids derive from it).
  const nextSeq = new Map<string, number>();
  const instance = Date.now().toString(36);

  app.post<{ Params: { streamId: string }; Body: { texts: string[]; language?: string } }>(
    '/streams/:streamId/texts',
    {
      schema: {
        summary: 'Add texts to a live stream; their results appear on /v1/live',
        tags: ['streams'],
        params: { type: 'object', properties: { streamId: streamIdSchema }, required: ['streamId'] },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['texts'],
          properties: {
            texts: {
              type: 'array',
              minItems: 1,
              maxItems: maxTexts,
              items: { type: 'string', minLength: 1 },
            },
            language: languageCode,
          },
        },
        response: {
          202: {
            type: 'object',
            properties: {
              streamId: { type: 'string' },
              segmentIds: { type: 'array', items: { type: 'string' } },
            },
          },
          400: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { streamId } = request.params;
      const { texts, language } = request.body;
      const first = nextSeq.get(streamId) ?? 0;
      nextSeq.set(streamId, first + texts.length);
      const segments = texts.map((text, i) =>
        newTextSegment({
          id: `${streamId}:${instance}-${first + i}`,
          streamId,
          seq: first + i,
          origin: 'API',
          text,
          language: language ?? null,
        }),
      );
      // The request's trace context (or a new trace) goes along with every segment.
      const trace = requestTrace(request);
      await producer.send(
        segments.map((segment) => ({ key: streamId, segment, headers: trace })),
        'gateway',
      );
      return reply.code(202).send({ streamId, segmentIds: segments.map((s) => s.id) });
    },
  );
};
