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

/** A stream's spoken language, or `auto`: decided from its first speech among TRANSCRIBE_LANGUAGES. */
export const spokenLanguage = {
  type: 'string',
  pattern: '^([a-z]{2}|auto)$',
  description:
    'ISO 639-1 code of the speech (en, ro, …), or auto (the default): decided once from the first seconds of speech among TRANSCRIBE_LANGUAGES, told as a `language` stream event',
} as const;

/** The hint a spoken-language field gives the audio chunks: none for auto. */
export function languageHintOf(language: string | undefined): string | undefined {
  return language === 'auto' ? undefined : language;
}

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

const coreScores = (description: string) =>
  ({
    type: 'object',
    description,
    properties: Object.fromEntries(CORE_EMOTIONS.map((emotion) => [emotion, { type: ['number', 'null'] }])),
    required: [...CORE_EMOTIONS],
  }) as const;

export const emotionScores = {
  type: 'object',
  properties: {
    topLabel: {
      type: 'string',
      enum: [...CORE_EMOTIONS],
      description:
        'The core emotion with the highest score in `core` (and so the largest share in `distribution`)',
    },
    labels: {
      type: 'array',
      items: { type: 'string', enum: [...CORE_EMOTIONS] },
      description:
        'Every core emotion whose score in `core` reaches 0.5, i.e. its tuned threshold: several, one or none',
    },
    core: coreScores(
      "Calibrated probability in [0, 1] of each core emotion: the model's probability re-centred so that the class's threshold (tuned on held-out data) is 0.5. These are the scores the labels are chosen from. null: the model has no such class (the Romanian model has no disgust or surprise).",
    ),
    distribution: coreScores(
      'The core scores as shares summing to 1 over the classes the model has (a softmax of the calibrated logits), for pie and stacked charts. Same order as `core`.',
    ),
    sentiment: {
      type: 'object',
      description:
        'From `distribution`: polarity = joy share − (anger + disgust + fear + sadness shares), in [-1, 1]; intensity = 1 − neutral share, in [0, 1] (how emotional the text is at all, either way)',
      properties: { polarity: { type: 'number' }, intensity: { type: 'number' } },
      required: ['polarity', 'intensity'],
    },
    fine: {
      type: ['object', 'null'],
      additionalProperties: { type: 'number' },
      description:
        "Calibrated probabilities of the 28 GoEmotions labels (0.5 = the label's threshold), when the model has them",
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
