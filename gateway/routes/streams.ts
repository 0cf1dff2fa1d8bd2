import type { FastifyPluginAsync } from 'fastify';
import { newTextSegment, type SegmentProducer } from '../../producers/segment-producer.js';
import { errorResponse, languageCode, streamIdSchema } from '../api-schemas.js';

/**
 * POST /v1/streams/:streamId/texts: text that arrives live (chat lines, captions, a transcript
 * from elsewhere) joins a stream. Segments are keyed by the stream id, so they stay in order.
 */
export const streamRoutes: FastifyPluginAsync<{ producer: SegmentProducer; maxTexts: number }> = async (
  app,
  { producer, maxTexts },
) => {
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
      await producer.send(
        segments.map((segment) => ({ key: streamId, segment })),
        'gateway',
      );
      return reply.code(202).send({ streamId, segmentIds: segments.map((s) => s.id) });
    },
  );
};
