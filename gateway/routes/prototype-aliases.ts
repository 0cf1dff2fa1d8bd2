import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { errorResponse } from '../api-schemas.js';

/**
 * The prototype's endpoints (FastAPI: /health, /predict, /upload-csv, /download-csv), kept as thin
 * aliases so its users' scripts go on working while they move: each is answered by its /v1
 * successor (an in-process inject, so validation, limits and errors are the same) and carries
 * `Deprecation: true` and a `Link` to that successor (RFC 8594 / draft-ietf-httpapi-deprecation-header).
 * The prototype's other endpoints have no alias: docs/migration.md maps them.
 */
export const prototypeAliases: FastifyPluginAsync = async (app) => {
  const alias = { deprecated: true, tags: ['prototype (deprecated)'] };

  app.get('/health', { schema: { ...alias, summary: 'Deprecated: use GET /healthz' } }, (request, reply) =>
    forward(app, request, reply, { method: 'GET', url: '/healthz' }, '/healthz'),
  );

  app.post<{ Body: { text: string } }>(
    '/predict',
    {
      schema: {
        ...alias,
        summary: 'Deprecated: use POST /v1/predict. One text in, its 7 core scores and top label out',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['text'],
          properties: { text: { type: 'string', minLength: 1 } },
          examples: [{ text: 'I am so happy today!' }],
        },
        response: { 400: errorResponse },
      },
    },
    (request, reply) =>
      forward(
        app,
        request,
        reply,
        { method: 'POST', url: '/v1/predict', payload: { text: request.body.text } },
        '/v1/predict',
      ),
  );

  app.post(
    '/upload-csv',
    {
      schema: {
        ...alias,
        summary: 'Deprecated: use POST /v1/jobs/csv (the same multipart upload); the answer names the job',
        consumes: ['multipart/form-data'],
      },
    },
    (request, reply) =>
      forward(
        app,
        request,
        reply,
        // A multipart upload streams through to the job route as it arrives; a JSON body was
        // already parsed, and goes on as it was sent to get the job route's own refusal (415).
        {
          method: 'POST',
          url: '/v1/jobs/csv',
          payload: request.isMultipart() ? request.raw : JSON.stringify(request.body ?? {}),
          headers: passedHeaders(request),
        },
        '/v1/jobs/csv',
      ),
  );

  app.get<{ Querystring: { job_id: string } }>(
    '/download-csv',
    {
      schema: {
        ...alias,
        summary: 'Deprecated: use GET /v1/jobs/{id}/results.csv',
        querystring: {
          type: 'object',
          required: ['job_id'],
          properties: {
            job_id: {
              type: 'string',
              pattern: '^[A-Za-z0-9-]{1,64}$',
              description: 'the jobId /upload-csv answered',
            },
          },
        },
      },
    },
    (request, reply) => {
      const url = `/v1/jobs/${request.query.job_id}/results.csv`;
      return forward(app, request, reply, { method: 'GET', url }, url);
    },
  );
};

/** The client's own headers that the successor needs: its body type and its key. */
function passedHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'content-length', 'authorization']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

async function forward(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  to: { method: 'GET' | 'POST'; url: string; payload?: unknown; headers?: Record<string, string> },
  successor: string,
): Promise<FastifyReply> {
  const answer = await app.inject({
    method: to.method,
    url: to.url,
    headers: to.headers ?? passedHeaders(request),
    ...(to.payload === undefined ? {} : { payload: to.payload as string }),
  });
  reply
    .code(answer.statusCode)
    .header('Deprecation', 'true')
    .header('Link', `<${successor}>; rel="successor-version"`);
  for (const name of ['content-type', 'content-disposition', 'location', 'retry-after', 'www-authenticate']) {
    const value = answer.headers[name];
    if (value !== undefined) reply.header(name, value);
  }
  return reply.send(answer.rawPayload);
}
