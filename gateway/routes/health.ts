import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../../runtime/http/service-endpoints.js';

/** /healthz (alive), /readyz (Kafka, registry, model), /metrics (Prometheus text). */
export const healthRoutes: FastifyPluginAsync<{
  checks: Record<string, ReadinessCheck>;
  metrics: Registry;
}> = async (app, { checks, metrics }) => {
  const hidden = { hide: true } as const;
  app.get('/healthz', { schema: { ...hidden } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { ...hidden } }, async (_request, reply) => {
    const results = Object.fromEntries(
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => [
          name,
          await Promise.resolve(check()).catch(() => false),
        ]),
      ),
    );
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  app.get('/metrics', { schema: { ...hidden } }, async (_request, reply) =>
    reply.header('Content-Type', metrics.contentType).send(await metrics.metrics()),
  );
};
