import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { buildGatewayApp, type GatewayParts } from '../../gateway/app.js';
import { StreamOverview } from '../../gateway/streams/stream-overview.js';
import type { EmotionEngine } from '../../processors/classify/engine.js';
import { createEmotionEngine } from '../../processors/classify/pipeline.js';
import { RetryableError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';

/**
 * The gateway's routes and its one error contract through Fastify's inject() (issue 20): the app
 * as the service builds it, on the shipped fast-tier model, with fakes for what needs Kafka. Every
 * 4xx and 5xx has the same body, {statusCode, error: the status text, message}. The real-stack
 * tests (test/integration/gateway.test.ts) keep covering the same routes end to end.
 */

const config = loadConfig({});
const logger = createLogger({ level: 'silent' });
/** What a route that needs Kafka meets when the producer cannot reach it. */
const kafkaDown = {
  send: async () => {
    throw new RetryableError('Kafka is unreachable');
  },
};

async function app(overrides: Partial<GatewayParts> = {}): Promise<FastifyInstance> {
  const parts = {
    config: { ...config.gateway, apiKeys: [], rateLimitMax: 0 },
    version: 'test',
    logger,
    metrics: new Registry(),
    engine,
    segments: kafkaDown,
    feedback: kafkaDown,
    hub: {},
    jobs: { get: () => undefined },
    feedbackOutcomes: { status: () => undefined },
    ingests: { isRunning: () => false },
    overview: new StreamOverview(),
    transcripts: {},
    audioSpoolDir: '/nonexistent',
    checks: {},
    ...overrides,
  } as unknown as GatewayParts;
  const built = await buildGatewayApp(parts);
  await built.ready();
  return built;
}

let engine: EmotionEngine;
let gateway: FastifyInstance;
beforeAll(async () => {
  engine = await createEmotionEngine({ ...config.classify, tier: 'fast' }, logger);
  gateway = await app();
});
afterAll(async () => {
  await gateway?.close();
  await engine?.close();
});

const errorBody = (statusCode: number, error: string) => ({
  statusCode,
  error,
  message: expect.any(String),
});

describe('the gateway app, injected', () => {
  it('answers POST /v1/predict from the model in-process', async () => {
    const response = await gateway.inject({
      method: 'POST',
      url: '/v1/predict',
      payload: { text: 'I am so happy and grateful today!', language: 'en' },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.topLabel).toBe('joy');
    expect(Math.max(...Object.values(body.core as Record<string, number>))).toBe(body.core.joy);
  });

  it('gives every client error one body shape: validation, its own checks, media type, unknown route, unknown id', async () => {
    const cases = [
      [{ method: 'POST', url: '/v1/predict', payload: { texts: [] } }, 400, 'Bad Request'],
      [{ method: 'POST', url: '/v1/predict', payload: { text: 'a', texts: ['b'] } }, 400, 'Bad Request'],
      [
        { method: 'POST', url: '/v1/predict', payload: 'hello', headers: { 'content-type': 'text/plain' } },
        415,
        'Unsupported Media Type',
      ],
      [{ method: 'GET', url: '/v1/no-such-route' }, 404, 'Not Found'],
      [{ method: 'GET', url: '/v1/jobs/8f14e45f-ceea-467a-9575-6e1f1f6b2b7c' }, 404, 'Not Found'],
      [{ method: 'GET', url: '/v1/jobs/not-a-job-id' }, 400, 'Bad Request'],
      [{ method: 'GET', url: '/v1/streams?alert=joy,rage' }, 400, 'Bad Request'],
    ] as const;
    for (const [request, status, text] of cases) {
      const response = await gateway.inject(request as never);
      expect(response.statusCode, `${request.method} ${request.url}`).toBe(status);
      expect(response.json(), `${request.method} ${request.url}`).toEqual(errorBody(status, text));
    }
  });

  it('turns an error that carries its status into that status (a refused stream URL is a 400)', async () => {
    const response = await gateway.inject({
      method: 'POST',
      url: '/v1/streams',
      payload: { url: 'http://10.0.0.5/live.mp3' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(errorBody(400, 'Bad Request'));
    expect(response.json().message).toMatch(/private or reserved/);
  });

  it('answers 503 with Retry-After when Kafka is down, and 500 with the request id, not the internals, on a bug', async () => {
    const down = await gateway.inject({
      method: 'POST',
      url: '/v1/streams/s1/texts',
      payload: { texts: ['hello there'] },
    });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.json()).toEqual(errorBody(503, 'Service Unavailable'));

    const broken = await app({
      engine: {
        ...engine,
        name: 'broken',
        languages: ['en'],
        run: async () => {
          throw new TypeError("Cannot read properties of undefined (reading 'secret')");
        },
        close: async () => undefined,
      },
    });
    try {
      const response = await broken.inject({ method: 'POST', url: '/v1/predict', payload: { text: 'hi' } });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual(errorBody(500, 'Internal Server Error'));
      expect(response.json().message).toMatch(/^internal error \(request .+\)$/);
      expect(response.body).not.toMatch(/secret/);
    } finally {
      await broken.close();
    }
  });
});
