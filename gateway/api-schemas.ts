import { CORE_EMOTIONS, FINE_EMOTIONS } from '../processors/classify/labels.js';

/**
 * JSON Schemas of the REST API: Fastify validates requests and serializes responses with them,
 * and @fastify/swagger publishes them as the OpenAPI document at /docs.
 */

export const languageCode = {
  type: 'string',
  pattern: '^[a-z]{2}$',
  description: 'ISO 639-1 language code, such as en or ro',
} as const;

export const streamIdSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9._:-]{1,128}$',
  description: 'Letters, digits, dot, underscore, colon and dash; at most 128 characters',
} as const;

export const errorResponse = {
  type: 'object',
  description: 'What was wrong with the request',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

const coreScores = {
  type: 'object',
  description: 'Scores in [0, 1] of the 7 core emotions',
  properties: Object.fromEntries(CORE_EMOTIONS.map((emotion) => [emotion, { type: 'number' }])),
  required: [...CORE_EMOTIONS],
} as const;

export const emotionScores = {
  type: 'object',
  properties: {
    topLabel: { type: 'string', enum: [...CORE_EMOTIONS] },
    labels: {
      type: 'array',
      items: { type: 'string', enum: [...CORE_EMOTIONS] },
      description: "Core emotions whose score reaches the model's threshold",
    },
    core: coreScores,
    fine: {
      type: ['object', 'null'],
      additionalProperties: { type: 'number' },
      description: 'Scores of the 28 GoEmotions labels, when the model has them',
    },
    language: { type: 'string', description: 'Language of the model that scored the text' },
    detectedLanguage: { type: ['string', 'null'] },
    languageFallback: { type: 'boolean' },
    truncated: { type: 'boolean' },
    model: {
      type: 'object',
      properties: { name: { type: 'string' }, version: { type: 'string' }, engine: { type: 'string' } },
    },
  },
} as const;

export const ALL_LABELS = [...new Set<string>([...CORE_EMOTIONS, ...FINE_EMOTIONS])];

export const traceStamps = {
  type: 'array',
  items: { type: 'object', properties: { stage: { type: 'string' }, atMs: { type: 'integer' } } },
} as const;
