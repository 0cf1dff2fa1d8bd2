import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import * as prom from 'prom-client';

/** Requests and their latency by route and status class, for the 5xx-rate and latency alerts. */
export function recordHttpMetrics(app: FastifyInstance, metrics: Registry): void {
  const registers = [metrics];
  const requests = new prom.Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new prom.Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would make the label set unbounded.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
