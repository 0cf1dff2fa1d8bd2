import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { AvroProducer } from '../../runtime/kafka/avro-producer.js';
import type { Feedback } from '../../schemas/index.js';
import { ALL_LABELS, errorResponse } from '../api-schemas.js';
import type { FeedbackOutcomes } from '../feedback/feedback-outcomes.js';
import { REVIEW_COLUMNS, readReviewedCsv } from '../feedback/reviewed-csv.js';
import { HttpError, sendError } from '../http-errors.js';
import type { LiveHub } from '../live/live-hub.js';
import { requestTrace } from '../request-trace.js';
import { receiveUpload } from './multipart-upload.js';

interface FeedbackBody {
  resultId: string;
  verdict: 'correct' | 'wrong';
  label?: string;
  comment?: string;
}

const matched = {
  type: 'string',
  enum: ['matched', 'pending', 'unmatched'],
  description:
    'matched: joined with its result (it teaches the next model); pending: not joined yet; unmatched: ' +
    'its result was not found within the join window (kept, but it teaches nothing)',
} as const;

const outcome = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    resultId: { type: 'string' },
    verdict: { type: 'string', enum: ['correct', 'wrong'] },
    label: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    matched,
    reason: { type: ['string', 'null'], description: 'Why it is pending or unmatched' },
    trainingLabel: { type: ['string', 'null'], description: 'The core class it teaches, once recorded' },
    recorded: { type: 'boolean', description: 'True once the feedback sink has written it' },
  },
} as const;

/** Rows of a reviewed file sent in one Kafka batch. */
const SEND_BATCH = 500;
const MAX_REPORTED_REFUSALS = 100;

/**
 * Feedback onto the `feedback` topic for retraining: POST /v1/feedback (one verdict), POST
 * /v1/feedback/csv (a reviewed results file, one verdict per row), GET /v1/feedback/:id (whether
 * the verdict found its result).
 */
export const feedbackRoutes: FastifyPluginAsync<{
  producer: AvroProducer<Feedback>;
  hub: LiveHub;
  outcomes: FeedbackOutcomes;
  uploadLimitBytes: number;
}> = async (app, { producer, hub, outcomes, uploadLimitBytes }) => {
  /** A verdict as a feedback record; the stream and position are known for recent results. */
  const feedbackOf = (verdict: Pick<Feedback, 'resultId' | 'verdict' | 'label' | 'comment'>) => {
    const recent = hub.recent(verdict.resultId);
    const now = Date.now();
    const feedback: Feedback = {
      id: randomUUID(),
      ...verdict,
      streamId: recent?.streamId ?? null,
      seq: recent?.seq ?? null,
      createdAtMs: now,
      trace: [{ stage: 'gateway', atMs: now }],
    };
    return { feedback, seen: recent !== undefined };
  };

  app.post<{ Body: FeedbackBody }>(
    '/feedback',
    {
      schema: {
        summary: 'Say whether a result was right, and which label would have been',
        description:
          '`matched` says at once what is known: `matched` when the gateway has seen the result, else ' +
          '`pending`; `GET /v1/feedback/{id}` (the `Location`) gives the outcome once the feedback sink has ' +
          'joined it with its result, or kept it unmatched and why.',
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
          202: {
            type: 'object',
            properties: { id: { type: 'string' }, resultId: { type: 'string' }, matched },
          },
          400: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { resultId, verdict, label, comment } = request.body;
      const { feedback, seen } = feedbackOf({
        resultId,
        verdict,
        label: label ?? null,
        comment: comment ?? null,
      });
      await producer.send([{ key: resultId, value: feedback, headers: requestTrace(request) }]);
      const tracked = outcomes.track(feedback, seen);
      return reply
        .code(202)
        .header('Location', `/v1/feedback/${feedback.id}`)
        .send({ id: feedback.id, resultId, matched: tracked.matched });
    },
  );

  app.post(
    '/feedback/csv',
    {
      schema: {
        summary: 'Send a reviewed results file: one verdict per row',
        description:
          `multipart/form-data with a \`file\` part: a CSV job's results.csv with a \`${REVIEW_COLUMNS.label}\` ` +
          `column added. Per row: blank confirms the result, \`wrong\` says it is wrong without the right ` +
          "label, a core or GoEmotions label names the right one (the row's own `top_label` counts as " +
          `confirmed); \`${REVIEW_COLUMNS.resultId}\` says which result, an optional \`comment\` column is ` +
          'kept. Answers with every accepted verdict (its id and line) and every refused row (line and ' +
          'why); 400 when no row could be taken.',
        tags: ['feedback'],
        consumes: ['multipart/form-data'],
        response: {
          202: {
            type: 'object',
            properties: {
              accepted: { type: 'integer' },
              refused: { type: 'integer' },
              refusedRows: {
                type: 'array',
                description: `The first ${MAX_REPORTED_REFUSALS} refused rows`,
                items: {
                  type: 'object',
                  properties: { line: { type: 'integer' }, reason: { type: 'string' } },
                },
              },
              feedback: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    line: { type: 'integer' },
                    id: { type: 'string' },
                    resultId: { type: 'string' },
                    verdict: { type: 'string' },
                    label: { type: ['string', 'null'] },
                    matched,
                  },
                },
              },
            },
          },
          400: errorResponse,
          413: errorResponse,
          415: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const dir = await mkdtemp(join(tmpdir(), 'feedback-csv-'));
      const file = join(dir, 'reviewed.csv');
      try {
        await receiveUpload(request, {
          noun: 'reviewed CSV',
          file,
          defaultFileName: 'reviewed.csv',
          fields: {},
          uploadLimitBytes,
        });
        const accepted: Array<{ line: number; feedback: Feedback; seen: boolean }> = [];
        const refusedRows: Array<{ line: number; reason: string }> = [];
        let refused = 0;
        for await (const row of readReviewedCsv(file)) {
          if ('refused' in row) {
            refused += 1;
            if (refusedRows.length < MAX_REPORTED_REFUSALS)
              refusedRows.push({ line: row.line, reason: row.refused });
          } else {
            accepted.push({ line: row.line, ...feedbackOf(row.verdict) });
          }
        }
        if (accepted.length === 0) {
          const first = refusedRows
            .slice(0, 3)
            .map((r) => `line ${r.line}: ${r.reason}`)
            .join('; ');
          return sendError(reply, 400, `no row could be taken as feedback (${refused} refused; ${first})`);
        }
        for (let i = 0; i < accepted.length; i += SEND_BATCH) {
          await producer.send(
            accepted
              .slice(i, i + SEND_BATCH)
              .map(({ feedback }) => ({ key: feedback.resultId, value: feedback })),
          );
        }
        const feedback = accepted.map(({ line, feedback, seen }) => ({
          line,
          id: feedback.id,
          resultId: feedback.resultId,
          verdict: feedback.verdict,
          label: feedback.label,
          matched: outcomes.track(feedback, seen).matched,
        }));
        return reply.code(202).send({ accepted: accepted.length, refused, refusedRows, feedback });
      } catch (error) {
        // Upload and reviewed-file errors carry their status (HttpError); the CSV parser's do not.
        if ((error as { code?: string }).code?.startsWith('CSV_'))
          throw new HttpError(400, `the file is not a readable CSV: ${(error as Error).message}`, {
            cause: error,
          });
        throw error;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    '/feedback/:id',
    {
      schema: {
        summary: 'Whether a verdict found its result: matched, pending, or unmatched and why',
        description:
          'Known to the gateway that accepted the verdict (the last 200,000 of them), like CSV jobs.',
        tags: ['feedback'],
        params: {
          type: 'object',
          properties: { id: { type: 'string', format: 'uuid' } },
          required: ['id'],
        },
        response: { 200: outcome, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const found = await outcomes.outcome(request.params.id);
      if (!found) return sendError(reply, 404, 'no such feedback on this gateway');
      return found;
    },
  );
};
