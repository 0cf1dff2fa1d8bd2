import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per service process. Not prom-client's global one, so that tests and tools can run
 * several stages in one process without their metrics colliding.
 */
export function createMetricsRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
