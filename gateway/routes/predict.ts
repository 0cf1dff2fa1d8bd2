import type { FastifyPluginAsync } from 'fastify';
import type { EmotionEngine } from '../../processors/classify/engine.js';
import { emotionScores, errorResponse, languageCode } from '../api-schemas.js';
import { sendError } from '../http-errors.js';

interface PredictBody {
  text?: string;
  texts?: string[];
  language?: string;
}

/** POST /v1/predict: emotions of one text or a batch, computed in-process (no Kafka round trip). */
export const predictRoutes: FastifyPluginAsync<{ engine: EmotionEngine; maxTexts: number }> = async (
  app,
  { engine, maxTexts },
) => {
  app.post<{ Body: PredictBody }>(
    '/predict',
    {
      schema: {
        summary: 'Emotions of one text ({text}) or of several ({texts})',
        tags: ['predict'],
        body: {
          type: 'object',
          additionalProperties: false,
          // The example the OpenAPI document (and Swagger UI's "Try it out") offers: one the API takes.
          examples: [{ text: 'What a wonderful surprise, thank you all!', language: 'en' }],
          properties: {
            text: { type: 'string', minLength: 1, description: 'One text' },
            texts: {
              type: 'array',
              minItems: 1,
              maxItems: maxTexts,
              items: { type: 'string', minLength: 1 },
              description: `Up to ${maxTexts} texts`,
            },
            language: {
              ...languageCode,
              description: `${languageCode.description}; detected per text when absent`,
            },
          },
        },
        response: {
          200: {
            description: 'For {text}: one result. For {texts}: {results}, in the order of the texts.',
            // One object schema with both shapes' properties (rather than anyOf) keeps serialization on
            // fast-json-stringify's fast path: only the properties present are written.
            type: 'object',
            properties: {
              ...emotionScores.properties,
              results: { type: 'array', items: emotionScores },
            },
          },
          400: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { text, texts, language } = request.body;
      if ((text === undefined) === (texts === undefined)) {
        return sendError(
          reply,
          400,
          'body must have either "text" (a string) or "texts" (an array of strings), not both',
        );
      }
      const options = language ? { lang: language } : {};
      if (text !== undefined) return (await engine.run([text], options))[0];
      return { results: await engine.run(texts!, options) };
    },
  );
};
