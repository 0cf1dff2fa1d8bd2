import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface ServiceEndpoints {
  port: number;
  close(): Promise<void>;
}

/**
 * /healthz (the process is alive), /readyz (every dependency check passes) and /metrics (Prometheus
 * text) for services that have no HTTP server of their own. The gateway serves the same paths itself.
 */
export async function startServiceEndpoints(options: {
  port: number;
  host?: string;
  metrics: Registry;
  checks: Record<string, ReadinessCheck>;
}): Promise<ServiceEndpoints> {
  const server: Server = createServer(async (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    try {
      if (request.method !== 'GET') {
        response.writeHead(405, { Allow: 'GET' }).end();
      } else if (path === '/healthz') {
        response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
      } else if (path === '/readyz') {
        const results = Object.fromEntries(
          await Promise.all(
            Object.entries(options.checks).map(async ([name, check]) => [
              name,
              await Promise.resolve(check()).catch(() => false),
            ]),
          ),
        );
        const ready = Object.values(results).every(Boolean);
        response
          .writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks: results }));
      } else if (path === '/metrics') {
        const body = await options.metrics.metrics();
        response.writeHead(200, { 'Content-Type': options.metrics.contentType }).end(body);
      } else {
        response.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not found"}');
      }
    } catch (error) {
      response
        .writeHead(500, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error: String(error) }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
