import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { AvroProducer } from '../../runtime/kafka/avro-producer.js';
import type { Feedback } from '../../schemas/index.js';
import { ALL_LABELS, errorResponse } from '../api-schemas.js';
import type { LiveHub } from '../live/live-hub.js';

interface FeedbackBody {
  resultId: string;
  verdict: 'correct' | 'wrong';
  label?: string;
  comment?: string;
}

/** POST /v1/feedback: a user's verdict on one result, onto the `feedback` topic for retraining. */
export const feedbackRoutes: FastifyPluginAsync<{ producer: AvroProducer<Feedback>; hub: LiveHub }> = async (
  app,
  { producer, hub },
) => {
  app.post<{ Body: FeedbackBody }>(
    '/feedback',
    {
      schema: {
        summary: 'Say whether a result was right, and which label would have been',
        tags: ['feedback'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['resultId', 'verdict'],
          properties: {
            resultId: { type: 'string', minLength: 1, maxLength: 1024 },
            verdict: { type: 'string', enum: ['correct', 'wrong'] },
            label: { type: 'string', enum: ALL_LABELS, description: 'The right label (core or GoEmotions)' },
            comment: { type: 'string', maxLength: 2000 },
          },
        },
        response: {
          202: { type: 'object', properties: { id: { type: 'string' }, resultId: { type: 'string' } } },
          400: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { resultId, verdict, label, comment } = request.body;
      // The stream and position are known for recent results; the feedback sink joins the rest.
      const recent = hub.recent(resultId);
      const now = Date.now();
      const feedback: Feedback = {
        id: randomUUID(),
        resultId,
        streamId: recent?.streamId ?? null,
        seq: recent?.seq ?? null,
        verdict,
        label: label ?? null,
        comment: comment ?? null,
        createdAtMs: now,
        trace: [{ stage: 'gateway', atMs: now }],
      };
      await producer.send([{ key: resultId, value: feedback }]);
      return reply.code(202).send({ id: feedback.id, resultId });
    },
  );
};
