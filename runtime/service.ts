import type { Registry } from 'prom-client';
import { ConfigError, type RuntimeConfig } from './config/index.js';
import { startServiceEndpoints } from './http/service-endpoints.js';
import { createLogger, type Logger } from './logger.js';
import { createMetricsRegistry } from './metrics/registry.js';
import { startTracing, type Tracing } from './tracing/start-tracing.js';

/** What a service starts with; `C` is the settings it reads (the runtime's and its own sections). */
export interface ServiceContext<C extends RuntimeConfig = RuntimeConfig> {
  config: C;
  logger: Logger;
  metrics: Registry;
}

export interface RunningService {
  /** Readiness checks reported on /readyz. */
  checks: Record<string, () => boolean | Promise<boolean>>;
  /** Stops taking work, finishes what is in flight, releases connections. */
  stop(): Promise<void>;
  /** Rejects when the service can no longer work and the process should exit non-zero. */
  failed?: Promise<never>;
  /** The service serves /healthz, /readyz and /metrics on its own HTTP server (the gateway). */
  ownsEndpoints?: boolean;
}

/** Exit code for a configuration error (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/**
 * The whole life of a service process: read the configuration with `loadConfig` (one clear line
 * and exit 78 if it is wrong), start the service and its /healthz /readyz /metrics endpoint, and on SIGTERM or SIGINT
 * stop it cleanly before exiting. A fatal failure exits 1 so the orchestrator restarts the process.
 */
export async function runService<C extends RuntimeConfig>(
  name: string,
  loadConfig: () => C,
  start: (context: ServiceContext<C>) => Promise<RunningService>,
) {
  let config: C;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: configuration error: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name });
  const metrics = createMetricsRegistry({ service: name });
  let service: RunningService;
  let tracing: Tracing | undefined;
  try {
    tracing = await startTracing(name, logger);
    service = await start({ config, logger, metrics });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: configuration error: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    logger.fatal({ err: error }, 'service failed to start');
    process.exit(1);
  }
  const endpoints = service.ownsEndpoints
    ? undefined
    : await startServiceEndpoints({ port: config.metricsPort, metrics, checks: service.checks });
  logger.info({ metricsPort: endpoints?.port }, 'service running');

  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(code || 1);
    }, 30_000);
    timer.unref();
    try {
      await service.stop();
    } catch (error) {
      logger.error({ err: error }, 'error while stopping');
      code = code || 1;
    }
    await endpoints?.close();
    // The last spans (the batch just committed) are exported before the process goes.
    await tracing?.shutdown();
    logger.flush();
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  service.failed?.catch((error) => {
    logger.fatal({ err: error }, 'service failed');
    void shutdown('failure', 1);
  });
}
